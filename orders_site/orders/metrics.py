"""The orders service's own metrics (shopkit.metrics serves them at /orders/metrics)."""

from prometheus_client import Counter

CHECKOUTS = Counter(
    "tienda_checkouts_total",
    "Checkouts answered, by outcome: created, replayed, or the problem code "
    "(out_of_stock, empty_cart, service_unavailable, ...).",
    ["outcome"],
)


def count_checkout(*, status: int, body: dict | None = None, replayed: bool = False) -> None:
    if replayed:
        outcome = "replayed"
    elif status < 400:
        outcome = "created"
    else:
        outcome = str((body or {}).get("code", status))
    CHECKOUTS.labels(outcome).inc()
