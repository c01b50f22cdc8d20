"""Emails rendered from templates, in the recipient's language, that staff can override.

Templates live at `emails/<language>/<name>/subject.txt`, `body.txt` and (optional)
`body.html`, in any Django template directory: a service's app (`accounts/templates/`)
provides the defaults, and EMAIL_TEMPLATE_DIR (searched first) holds staff's copies.
Every template gets `shop_name` (SHOP_NAME), `storefront_url` (STOREFRONT_URL) and
`language` besides the caller's context. A language without its own template falls
back to SHOP_LANGUAGE's, then to English.
"""

from dataclasses import dataclass

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string, select_template
from django.utils import translation


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    language: str


def supported_languages() -> list[str]:
    return [code for code, _ in settings.SHOP_LANGUAGES]


def language_or_default(language: str | None) -> str:
    """`language` when the shop speaks it, else SHOP_LANGUAGE."""
    return language if language in supported_languages() else settings.SHOP_LANGUAGE


def _candidates(name: str, language: str, part: str) -> list[str]:
    languages = dict.fromkeys([language, settings.SHOP_LANGUAGE, "en"])  # ordered, no repeats
    return [f"emails/{code}/{name}/{part}" for code in languages]


def render_email(name: str, context: dict, *, language: str | None = None) -> RenderedEmail:
    """Subject (one line), plain text and HTML of the email `name` in `language`."""
    language = language_or_default(language)
    context = {
        "shop_name": settings.SHOP_NAME,
        "storefront_url": settings.STOREFRONT_URL.rstrip("/"),
        "language": language,
        **context,
    }
    with translation.override(language):
        subject = render_to_string(_candidates(name, language, "subject.txt"), context)
        text = render_to_string(_candidates(name, language, "body.txt"), context)
        try:
            html_template = select_template(_candidates(name, language, "body.html"))
        except TemplateDoesNotExist:
            html = ""
        else:
            html = html_template.render(context)
    return RenderedEmail(
        subject=" ".join(subject.split())[:255],  # a header: one line
        text=text.strip() + "\n",
        html=html.strip(),
        language=language,
    )
