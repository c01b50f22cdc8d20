"""One sign-in for the four admins, through the gateway; only active staff get in."""

import re

from playwright.sync_api import expect

from tests.browser.data import CUSTOMER_PASSWORD, ORDER_MANAGER, SUPERUSER
from tests.browser.pages import (
    ADMINS,
    expect_sign_in_form,
    expect_signed_in,
    sign_in,
    sign_out,
    submit,
)


def test_one_sign_in_opens_the_four_admins_and_one_sign_out_closes_them(
    page, shop, databases, screenshot
):
    email, password = SUPERUSER
    secret_key = shop.env["DJANGO_SECRET_KEY"]
    admin_id = databases.user_id(email)

    sign_in(page, email, password, at="/auth/admin/")
    expect_signed_in(page, email)
    expect(page).to_have_url(re.compile(r"/auth/admin/$"))
    screenshot(page, "auth-admin")

    # One cookie for the whole gateway, naming one session row in auth_db.
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["tienda_session"]
    assert (session["path"], session["httpOnly"]) == ("/", True)
    assert databases.session_users(secret_key)[session["value"]] == admin_id
    # The session table is auth_db's alone (shopkit's router), whichever admin reads it.
    assert databases.ecommerce.rows("SHOW TABLES LIKE 'django_session'") == []

    for service in ("catalog", "cart", "orders"):
        page.goto(f"/{service}/admin/")
        expect(page).to_have_url(re.compile(rf"/{service}/admin/$"))  # no detour via login/
        expect_signed_in(page, email)
        screenshot(page, f"{service}-admin")

    page.goto("/catalog/admin/")
    sign_out(page)
    screenshot(page, "signed-out-at-catalog")
    assert session["value"] not in databases.session_users(secret_key)
    assert "tienda_session" not in {c["name"] for c in page.context.cookies()}

    for service in ADMINS:
        page.goto(f"/{service}/admin/")
        expect(page).to_have_url(re.compile(rf"/{service}/admin/login/\?next=/{service}/admin/$"))
        expect_sign_in_form(page)
    screenshot(page, "orders-asks-to-sign-in")


def test_signing_in_at_any_admin_signs_in_at_the_others(page, screenshot):
    email, password = ORDER_MANAGER
    sign_in(page, email, password, at="/orders/admin/")
    expect_signed_in(page, email)
    page.goto("/auth/admin/")
    expect_signed_in(page, email)
    screenshot(page, "auth-admin-after-signing-in-at-orders")


def test_a_customer_cannot_enter_any_admin(page, shop, databases, screenshot):
    email = "customer3@example.com"
    customer_id = databases.user_id(email)
    assert databases.auth.row(
        "SELECT is_staff, is_active FROM auth_user WHERE id = %s", customer_id
    ) == {"is_staff": 0, "is_active": 1}

    for service in ADMINS:
        sign_in(page, email, CUSTOMER_PASSWORD, at=f"/{service}/admin/")
        expect(page.locator(".errornote")).to_contain_text("staff account")
        expect_sign_in_form(page)
        screenshot(page, f"{service}-refuses-a-customer")

    # The right password, yet no session was ever made for the customer.
    assert customer_id not in databases.session_users(shop.env["DJANGO_SECRET_KEY"]).values()


def test_a_deactivated_staff_member_is_signed_out_everywhere(
    open_page, shop, databases, screenshot
):
    email, password = ORDER_MANAGER
    staff = open_page()
    sign_in(staff, email, password, at="/orders/admin/")
    expect_signed_in(staff, email)

    superuser = open_page()
    sign_in(superuser, *SUPERUSER, at="/auth/admin/")
    user_id = databases.user_id(email)
    try:
        superuser.goto(f"/auth/admin/auth/user/{user_id}/change/")
        superuser.uncheck("#id_is_active")
        submit(superuser, "input[name=_save]")
        expect(superuser.locator("ul.messagelist")).to_contain_text("was changed successfully")
        screenshot(superuser, "deactivated-in-auth-admin")
        assert databases.auth.value("SELECT is_active FROM auth_user WHERE id = %s", user_id) == 0
        # The change is in the shared admin log: every admin's "Recent actions" lists it.
        for service in ("catalog", "cart", "orders"):
            assert superuser.goto(f"/{service}/admin/").status == 200
            expect(superuser.locator("#recent-actions-module")).to_contain_text(email)

        for service in ("orders", "catalog"):
            staff.goto(f"/{service}/admin/")
            expect_sign_in_form(staff)
        sign_in(staff, email, password, at="/orders/admin/")
        expect_sign_in_form(staff)
        screenshot(staff, "inactive-staff-refused")
    finally:
        databases.auth.execute("UPDATE auth_user SET is_active = 1 WHERE id = %s", user_id)
