"""Every service's models and its migrations agree (a forgotten migration fails here)."""

import io

from django.core.management import call_command


def assert_no_missing_migrations() -> None:
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit:  # --check exits 1 when a model change has no migration
        raise AssertionError(f"a model change has no migration:\n{out.getvalue()}") from exit
