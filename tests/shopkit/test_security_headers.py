"""Issue 11.7: a Content-Security-Policy on every page and answer, a CSRF cookie no
older than a session, and a docs page that needs no inline script."""

import re

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db(databases=["default", "ecommerce"])


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {
        part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()
    }


def test_admin_pages_get_a_same_origin_policy_without_inline_script(client):
    response = client.get("/catalog/admin/login/")
    assert response.status_code == 200
    policy = directives(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    # No inline script in the page itself (JSON data blocks are not executed).
    scripts = re.findall(r"<script([^>]*)>", response.content.decode())
    assert all("src=" in attrs or "application/json" in attrs for attrs in scripts), scripts


def test_the_docs_page_loads_every_script_from_this_origin(client):
    response = client.get("/api/v1/catalog/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    sources = re.findall(r'<script src="([^"]+)"', page)
    assert len(sources) == 3 and len(re.findall(r"<script", page)) == 3
    assert all(src.startswith("/") for src in sources), sources  # sidecar, not a CDN
    assert re.findall(r'href="([^"]+\.css)"', page)[0].startswith("/catalog/static/")
    start_up = client.get(sources[-1].replace("&amp;", "&"))
    assert start_up.status_code == 200
    assert start_up["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in start_up.content.decode()
    assert directives(response)["script-src"] == "'self'"


def test_json_answers_get_the_strictest_policy(client):
    response = client.get("/catalog/health/")
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_the_csrf_cookie_lives_as_long_as_a_session_not_a_year(client):
    response = client.get("/catalog/admin/login/")
    cookie = response.cookies[settings.CSRF_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE <= 14 * 24 * 3600
