"""Run Python in a fresh process as a service's worker would import it (import tests)."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]


def run_in_worker(service: str, probe: str, var_dir: Path) -> dict:
    """`probe` run in a new interpreter from `<service>_site/` with DEBUG settings and no
    database configured; returns the JSON object its last output line prints."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "ECOMMERCE_", "AUTH_", "DATABASE"))
    }
    site = REPO_DIR / f"{service}_site"
    env.update(DJANGO_DEBUG="1", VAR_DIR=str(var_dir), PYTHONPATH=str(site))
    result = subprocess.run(
        [sys.executable, "-c", probe, service],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
