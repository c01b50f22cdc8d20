"""EMAIL_URL → Django's email settings (read by shopkit.settings, before Django is set up).

- unset, or `file://` / `file:///some/dir`: one `.eml` file per message under the
  directory (VAR_DIR/mail by default: what `make run` uses);
- `console://`: printed on the process's standard output (compose's default);
- `locmem://`: kept in memory (tests);
- `smtp://user:pass@host:25`, `smtp+tls://...:587` (STARTTLS), `smtp+ssl://...:465`
  or `smtps://` (TLS from the start): django-environ's email_url, user and password
  URL-encoded.
"""

from pathlib import Path
from urllib.parse import unquote, urlsplit

import environ

EML_FILE_BACKEND = "shopkit.outbox.backends.EmlFileBackend"


def email_settings(url: str, default_file_dir: Path) -> dict:
    """The EMAIL_* settings for one EMAIL_URL."""
    scheme = url.split(":", 1)[0].lower() if url else "file"
    if scheme == "file":
        path = unquote(urlsplit(url).path) if url else ""
        return {"EMAIL_BACKEND": EML_FILE_BACKEND, "EMAIL_FILE_PATH": path or str(default_file_dir)}
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if scheme not in {"smtp", "smtps", "smtp+tls", "smtp+ssl"}:
        raise environ.ImproperlyConfigured(
            f"EMAIL_URL: unknown scheme {scheme!r} (smtp, smtp+tls, smtp+ssl, console, file)"
        )
    return environ.Env.email_url_config(url)
