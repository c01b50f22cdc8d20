"""The real nginx gateway for the system tests.

`GatewayProcess` renders gateway_nginx's template in local mode in front of
any upstreams (the `shop` fixture's free ports) and runs nginx in the foreground
through shopkit.processes (as `make run` and the benchmark do) as the current
user, with its prefix under var/system/<name>/ (pid, temp files) and its access
and error logs in var/system/<name>.log.
"""

import os
import stat
from pathlib import Path

from gateway_nginx.render import GatewayConfig, find_nginx, write_config
from shopkit.processes import REPO_DIR, NotReady, Process, free_port, nginx_argv


def nginx_binary() -> str:
    binary = find_nginx()
    if binary is None:
        raise RuntimeError("nginx is not installed: run scripts/system-packages.sh as root")
    return binary


def _traversable_by_nginx_workers(prefix: Path) -> None:
    """Run as root, nginx's workers are `nobody`: they must reach the cache files
    under the prefix, also when it lies in pytest's private (0700) tmp_path."""
    if os.geteuid() != 0:
        return
    for directory in (prefix, *prefix.parents):
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(mode | stat.S_IXOTH)


# The gateway's rate limits lifted, for tests of many concurrent buyers from one address.
UNLIMITED_RATES = {
    f"{path}_{what}": value
    for path in ("login", "register", "checkout")
    for what, value in (("rate", "10000r/s"), ("burst", 10000))
}


class GatewayProcess:
    """`with GatewayProcess(...) as gateway:` starts it and stops it, also on failure."""

    def __init__(self, upstreams: dict[str, str], *, log_dir: Path, name="gateway", **config):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = GatewayConfig.for_mode(
            "local", listen=[f"127.0.0.1:{self.port}"], upstreams=upstreams, **config
        )
        self.prefix = log_dir / name
        self.conf_path = write_config(self.config, self.prefix / "nginx.conf")
        _traversable_by_nginx_workers(self.prefix)
        self.log_path = log_dir / f"{name}.log"
        self.process = Process(
            name,
            nginx_argv(nginx_binary(), self.conf_path),
            cwd=REPO_DIR,
            env=dict(os.environ),
            log=self.log_path,
        )

    def start(self, timeout: float = 15.0) -> None:
        self.process.start()
        try:
            self.process.wait_until_answers(f"{self.url}/health", timeout=timeout)
        except NotReady as exc:
            self.process.stop()
            raise RuntimeError(f"nginx not answering ({exc}); see {self.log_path}") from None

    def stop(self) -> None:
        self.process.stop(grace=10.0)  # SIGTERM: nginx's fast shutdown

    def __enter__(self) -> "GatewayProcess":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def log_text(self) -> str:
        # nginx's escape=json leaves bytes over 0x7f as they came (a client's raw
        # or percent-decoded Latin-1 path): not always UTF-8.
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
