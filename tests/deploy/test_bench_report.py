"""bench/run.py's report: ratios to the same round's hello, and the median of rounds."""

import importlib.util

from shopkit.processes import REPO_DIR


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_run", REPO_DIR / "bench" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = load_bench()


def result(rps, cpu, *, per="request", orders_per_s=None, p99=3.0):
    figures = {
        "label": "a path",
        "rps": rps,
        "p50_ms": 2.0,
        "p95_ms": 2.5,
        "p99_ms": p99,
        "per": per,
        "errors": 0,
        "cpu_ms_per_unit": cpu,
    }
    if orders_per_s is not None:
        figures["orders_per_s"] = orders_per_s
    return figures


def test_each_round_is_compared_with_its_own_hello():
    slow_round = bench.with_ratios({"hello": result(800, 0.5), "list": result(240, 1.6)})
    fast_round = bench.with_ratios({"hello": result(1000, 0.4), "list": result(300, 1.3)})

    assert slow_round["list"]["rps_ratio"] == fast_round["list"]["rps_ratio"] == 0.3
    assert slow_round["hello"]["rps_ratio"] == 1.0


def test_a_checkout_is_compared_by_its_orders():
    one = bench.with_ratios(
        {"hello": result(1000, 0.4), "checkout": result(120, 22.0, per="order", orders_per_s=60)}
    )

    assert one["checkout"]["rps_ratio"] == 0.06


def test_several_rounds_report_the_median_round_and_every_rounds_figures():
    rounds = [
        bench.with_ratios({"hello": result(1000, 0.40), "list": result(300, 1.30, p99=9.0)}),
        bench.with_ratios({"hello": result(800, 0.50), "list": result(320, 1.20, p99=7.0)}),
        bench.with_ratios({"hello": result(1000, 0.45), "list": result(250, 1.50, p99=8.0)}),
    ]

    combined = bench.combine_rounds(rounds)

    listed = combined["list"]
    assert listed["rps_ratio"] == 0.3  # of 0.3, 0.4 and 0.25: a real round's, not a mean
    assert listed["rps"] == 300 and listed["cpu_ms_per_unit"] == 1.30  # that round's figures
    assert listed["rps_ratio_rounds"] == [0.3, 0.4, 0.25]
    assert listed["cpu_ms_per_unit_rounds"] == [1.30, 1.20, 1.50]
    assert listed["p99_ms_rounds"] == [9.0, 7.0, 8.0]
    assert listed["rounds"] == 3
    assert "| 0.30 (0.25-0.40) |" in bench.markdown(
        {
            "finished_at": "now",
            "wrk": "4.1 -t2 -c16",
            "seconds": 10,
            "warmup": 2,
            "rounds": 3,
            "products": 2000,
            "database": "MariaDB",
            "gunicorn": "gthread",
            "machine": "2 CPUs",
            "rss_mb": {},
            "results": combined,
        }
    )


def test_one_round_is_reported_as_it_was_measured():
    one = [bench.with_ratios({"hello": result(1000, 0.4), "list": result(300, 1.3)})]

    combined = bench.combine_rounds(one)

    assert combined == one[0]
    assert "rps_ratio_rounds" not in combined["list"]
