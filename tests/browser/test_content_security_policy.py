"""Issue 11.7 in a real browser: under the Content-Security-Policy the admins and the
Swagger UI pages still work, and the browser reports no violation."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.data import SUPERUSER
from tests.browser.pages import expect_signed_in, sign_in


@pytest.fixture
def violations(page):
    """Console messages in which the browser reports a blocked resource or script."""
    seen = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


@pytest.mark.parametrize("service", ["auth", "catalog", "cart", "orders"])
def test_swagger_ui_renders_its_operations_under_the_policy(page, violations, service, screenshot):
    response = page.goto(f"/api/v1/{service}/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".opblock").first).to_be_visible()  # the schema was fetched and drawn
    page.locator(".opblock-summary").first.click()  # React handlers run
    expect(page.locator(".opblock-body").first).to_be_visible()
    screenshot(page, f"docs-{service}")
    assert violations == []


def test_the_admin_works_under_the_policy(page, violations, screenshot):
    email, password = SUPERUSER
    sign_in(page, email, password, at="/catalog/admin/")
    expect_signed_in(page, email)
    page.goto("/catalog/admin/catalog/product/add/")
    expect(page.locator("#product_form")).to_be_visible()
    page.goto("/auth/admin/auth/user/")
    # The changelist's select-all checkbox is driven by the admin's own JavaScript.
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text(re.compile(r"\d+ of \d+ selected"))
    screenshot(page, "admin-under-csp")
    assert violations == []
