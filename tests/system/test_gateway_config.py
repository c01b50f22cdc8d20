"""The gateway's configuration: both renderings of the one template pass `nginx -t`."""

import difflib
import re
import subprocess
from pathlib import Path

import pytest

from gateway_nginx.render import SERVICE_PORTS, SERVICES, GatewayConfig, main, render_config
from tests.system.gateway import nginx_binary


def nginx_test(config_text: str, tmp_path) -> subprocess.CompletedProcess:
    conf = tmp_path / "nginx.conf"
    # `nginx -t` binds the cache tier's socket: here, not in make run's var/gateway/
    # or the image's prefix.
    conf.write_text(re.sub(r"unix:/\S+/cache\.sock;", f"unix:{tmp_path}/cache.sock;", config_text))
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return subprocess.run(
        [nginx_binary(), "-t", "-p", f"{tmp_path}/", "-c", str(conf)],
        capture_output=True,
        text=True,
    )


def test_local_rendering_passes_nginx_t(tmp_path):
    result = nginx_test(render_config(GatewayConfig.for_mode("local")), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_docker_rendering_passes_nginx_t_with_resolvable_upstreams(tmp_path):
    # nginx resolves upstream names when it loads: `auth`, `catalog`... exist only
    # inside compose's network, and run-time resolution (`resolve`, nginx >= 1.27.3)
    # is the image's, not this machine's. Everything else is tested exactly as rendered.
    docker = render_config(GatewayConfig.for_mode("docker"))
    loopback = {service: f"127.0.0.1:{SERVICE_PORTS[service]}" for service in SERVICES}
    testable = render_config(GatewayConfig.for_mode("docker", upstreams=loopback, resolve=False))

    changed = [
        line
        for line in difflib.unified_diff(docker.splitlines(), testable.splitlines(), lineterm="")
        if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))
    ]
    assert sorted(changed) == sorted(
        [f"-        server {s}:{SERVICE_PORTS[s]} resolve;" for s in SERVICES]
        + [f"-        zone upstream_{s} 64k;" for s in SERVICES]
        + ["-    include tienda-runtime.conf;", "-"]
        + [f"+        server 127.0.0.1:{SERVICE_PORTS[s]};" for s in SERVICES]
    )
    result = nginx_test(testable, tmp_path)
    assert result.returncode == 0, result.stderr


def test_docker_rendering_resolves_the_service_names_at_run_time():
    text = render_config(GatewayConfig.for_mode("docker"))
    assert "include tienda-runtime.conf;" in text  # the resolver, written by start.sh
    for service in SERVICES:
        block = text[text.index(f"upstream {service} {{") :]
        block = block[: block.index("}")]
        assert f"zone upstream_{service} 64k;" in block
        assert f"server {service}:{SERVICE_PORTS[service]} resolve;" in block
    assert " resolve;" not in render_config(GatewayConfig.for_mode("local"))


def test_several_servers_per_service_pass_nginx_t(tmp_path):
    replicas = {
        s: [f"127.0.0.1:{9000 + n}", f"127.0.0.1:{9100 + n}"] for n, s in enumerate(SERVICES)
    }
    text = render_config(GatewayConfig.for_mode("local", upstreams=replicas))
    assert "        server 127.0.0.1:9000;\n        server 127.0.0.1:9100;\n" in text
    result = nginx_test(text, tmp_path)
    assert result.returncode == 0, result.stderr


def test_the_two_modes_differ_only_in_listen_and_upstreams():
    local = render_config(GatewayConfig.for_mode("local")).splitlines()
    docker = render_config(GatewayConfig.for_mode("docker", resolve=False)).splitlines()
    different = [(a.strip(), b.strip()) for a, b in zip(local, docker, strict=True) if a != b]
    for local_line, docker_line in different:
        assert local_line.split()[0] == docker_line.split()[0]
        assert local_line.split()[0] in ("#", "listen", "server")
    assert ("listen 127.0.0.1:8080;", "listen 80;") in different


def test_rendering_holds_what_the_gateway_promises():
    text = render_config(GatewayConfig.for_mode("local"))
    for directive in (
        "server_tokens off;",
        "client_max_body_size 1m;",
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        "proxy_intercept_errors off;",
        "limit_req_status 429;",
        "gzip_types application/json application/problem+json",
    ):
        assert directive in text
    assert "location ~ ^/(auth|catalog|cart|orders)/metrics {" in text
    for status in (404, 413, 429, 500, 502, 503, 504):
        assert f"error_page {status} /_gateway_problem/{status};" in text
    # Headers too large (nginx: 494) are answered as 431.
    assert "error_page 494 =431 /_gateway_problem/494;" in text
    for service in SERVICES:
        assert f"location /api/v1/{service}/ {{" in text
        assert f"location /{service}/ {{" in text
        assert f"upstream {service} {{" in text


def test_rates_and_limits_are_set_at_render_time(tmp_path):
    out = tmp_path / "gateway" / "nginx.conf"
    assert main(["--out", str(out), "--login-rate", "30r/m", "--client-max-body-size", "2m"]) == 0
    text = out.read_text()
    assert "zone=login:1m rate=30r/m;" in text
    assert "client_max_body_size 2m;" in text
    assert (out.parent / "tmp").is_dir()


@pytest.mark.parametrize(
    "overrides",
    [
        {"login_rate": "fast"},
        {"client_max_body_size": "1 GB"},
        {"upstreams": {"auth": "no-port"}},
        {"upstreams": {"auth": []}},
        {"routes": {"bench": "127.0.0.1:9000"}},
    ],
)
def test_bad_settings_are_refused(overrides):
    with pytest.raises(ValueError):
        render_config(GatewayConfig.for_mode("local", **overrides))


def test_catalog_cache_seconds_come_from_the_environment_and_zero_turns_it_off(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("GATEWAY_CATALOG_CACHE_SECONDS", "5")
    five = render_config(GatewayConfig.for_mode("local"))
    assert five.count("proxy_cache_valid 200 5s;") == 2  # products, categories
    assert "proxy_cache_lock on;" in five and "proxy_cache_background_update on;" in five
    # Stale only within the catalog's stale-while-revalidate, never for as long as it lasts.
    assert "proxy_cache_use_stale" not in five
    assert nginx_test(five, tmp_path).returncode == 0
    monkeypatch.setenv("GATEWAY_CATALOG_CACHE_SECONDS", "0")
    off = render_config(GatewayConfig.for_mode("local"))
    assert "proxy_cache" not in off
    assert nginx_test(off, tmp_path).returncode == 0
    monkeypatch.delenv("GATEWAY_CATALOG_CACHE_SECONDS")
    assert GatewayConfig.for_mode("docker").catalog_cache_seconds == 1
    with pytest.raises(ValueError, match="catalog_cache_seconds"):
        render_config(GatewayConfig.for_mode("local", catalog_cache_seconds=-1))


def test_worker_processes_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("GATEWAY_WORKER_PROCESSES", raising=False)
    assert "\nworker_processes 1;\n" in render_config(GatewayConfig.for_mode("docker"))
    for value in ("auto", "4"):
        monkeypatch.setenv("GATEWAY_WORKER_PROCESSES", value)
        rendered = render_config(GatewayConfig.for_mode("local"))
        assert f"\nworker_processes {value};\n" in rendered
        assert nginx_test(rendered, tmp_path).returncode == 0
    for bad in ("0", "65", "two", "1; daemon on"):
        with pytest.raises(ValueError, match="worker_processes"):
            render_config(GatewayConfig.for_mode("local", worker_processes=bad))


def test_the_container_start_script_gives_nginx_its_resolver_domain_and_trusted_proxies(
    tmp_path,
):
    """gateway_nginx/start.sh as the image runs it, with a stand-in for nginx."""
    conf = tmp_path / "tienda.conf"
    conf.write_text(render_config(GatewayConfig.for_mode("docker")))
    (tmp_path / "resolv.conf").write_text(
        "search tienda.svc.cluster.local\nnameserver 10.96.0.10\n"
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_nginx = bin_dir / "nginx"
    fake_nginx.write_text('#!/bin/sh\necho "$@" > "$GATEWAY_PREFIX/nginx-args"\n')
    fake_nginx.chmod(0o755)
    prefix = tmp_path / "prefix"
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "GATEWAY_CONF": str(conf),
        "GATEWAY_PREFIX": str(prefix),
        "GATEWAY_RESOLV_CONF": str(tmp_path / "resolv.conf"),
        "GATEWAY_UPSTREAM_DOMAIN": "tienda.svc.cluster.local",
        "GATEWAY_TRUSTED_PROXIES": "10.0.0.0/8,192.168.0.0/16",
    }
    script = Path(__file__).resolve().parents[2] / "gateway_nginx" / "start.sh"
    subprocess.run([str(script)], env=env, check=True)

    assert (prefix / "nginx-args").read_text().split() == [
        "-p",
        f"{prefix}/",
        "-c",
        f"{prefix}/nginx.conf",
    ]
    assert (prefix / "tmp").is_dir()
    assert (prefix / "tienda-runtime.conf").read_text().splitlines() == [
        "resolver 10.96.0.10 valid=10s ipv6=off;",
        "set_real_ip_from 10.0.0.0/8;",
        "set_real_ip_from 192.168.0.0/16;",
        "real_ip_header X-Forwarded-For;",
        "real_ip_recursive on;",
    ]
    rendered = (prefix / "nginx.conf").read_text()
    # The cache tier's socket moved into the prefix.
    socket = f"unix:{prefix}/cache.sock;"
    assert rendered.count(socket) == 2  # the tier's listen, the edge's upstream
    rendered = rendered.replace(socket, "unix:/var/cache/nginx/tienda/cache.sock;")
    for service in SERVICES:
        port = SERVICE_PORTS[service]
        assert f"server {service}.tienda.svc.cluster.local:{port} resolve;" in rendered
    # Only the upstream servers changed.
    assert rendered.replace(".tienda.svc.cluster.local:", ":") == conf.read_text()

    # compose: no domain, no proxies in front; the resolver as given.
    (tmp_path / "resolv.conf").write_text("nameserver 127.0.0.11\n")
    for name in ("GATEWAY_UPSTREAM_DOMAIN", "GATEWAY_TRUSTED_PROXIES"):
        env.pop(name)
    subprocess.run([str(script)], env=env, check=True)
    assert (
        prefix / "tienda-runtime.conf"
    ).read_text() == "resolver 127.0.0.11 valid=10s ipv6=off;\n"
    rendered = (prefix / "nginx.conf").read_text()
    assert rendered.replace(socket, "unix:/var/cache/nginx/tienda/cache.sock;") == conf.read_text()
