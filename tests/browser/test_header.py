"""Every admin page carries the same back-office header: the four admins and the gateway's page."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.data import SUPERUSER
from tests.browser.pages import expect_signed_in, sign_in, sign_out

HEADER_LINKS = ["/admin/", "/auth/admin/", "/catalog/admin/", "/cart/admin/", "/orders/admin/"]

# One page of each kind in each admin (index, app index, changelist, forms, custom views).
ADMIN_PAGES = [
    ("auth", "/auth/admin/"),
    ("auth", "/auth/admin/auth/user/"),
    ("auth", "/auth/admin/auth/user/add/"),
    ("auth", "/auth/admin/accounts/address/"),
    ("catalog", "/catalog/admin/"),
    ("catalog", "/catalog/admin/catalog/"),
    ("catalog", "/catalog/admin/catalog/product/"),
    ("catalog", "/catalog/admin/catalog/product/add/"),
    ("catalog", "/catalog/admin/catalog/product/import-csv/"),
    ("catalog", "/catalog/admin/catalog/category/"),
    ("cart", "/cart/admin/"),
    ("cart", "/cart/admin/carts/cart/"),
    ("orders", "/orders/admin/"),
    ("orders", "/orders/admin/orders/order/"),
    ("orders", "/orders/admin/orders/idempotencykey/"),
]


def expect_header(page, current: str) -> None:
    sections = page.locator("#tienda-sections a")
    assert [link.get_attribute("href") for link in sections.all()] == HEADER_LINKS, page.url
    expect(page.locator("#tienda-sections a[aria-current=page]")).to_have_attribute(
        "href", f"/{current}/admin/"
    )


@pytest.fixture
def superuser_page(page):
    sign_in(page, *SUPERUSER, at="/auth/admin/")
    expect_signed_in(page, SUPERUSER[0])
    return page


def test_every_admin_page_links_the_other_admins_and_the_gateway_page(superuser_page, screenshot):
    page = superuser_page
    for service, path in ADMIN_PAGES:
        response = page.goto(path)
        assert response.status == 200, path
        expect_signed_in(page, SUPERUSER[0])
        expect_header(page, service)
    screenshot(page, "orders-idempotency-keys-with-header")

    # The header's links are the way between the admins: no second sign-in on the way.
    page.goto("/catalog/admin/catalog/product/")
    for service, label in (("orders", "Orders"), ("cart", "Carts"), ("auth", "Customers & staff")):
        page.locator("#tienda-sections").get_by_role("link", name=label).click()
        expect(page).to_have_url(re.compile(rf"/{service}/admin/$"))
        expect_signed_in(page, SUPERUSER[0])
        expect_header(page, service)
    screenshot(page, "auth-admin-reached-from-the-header")

    page.locator("#tienda-sections").get_by_role("link", name="All back-office links").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("h1")).to_have_text("Tienda")
    for service in ("auth", "catalog", "cart", "orders"):
        expect(page.get_by_role("link", name=f"/{service}/admin/")).to_have_attribute(
            "href", f"/{service}/admin/"
        )
    screenshot(page, "gateway-admin-page")


def test_the_sign_in_and_signed_out_pages_carry_the_header_too(superuser_page, screenshot):
    page = superuser_page
    page.goto("/orders/admin/")
    sign_out(page)
    expect_header(page, "orders")
    page.goto("/catalog/admin/")
    expect(page).to_have_url(re.compile(r"/catalog/admin/login/"))
    expect_header(page, "catalog")
    screenshot(page, "catalog-sign-in-with-header")
