"""Customer lookup across two admins: the user, their addresses, their orders, and back."""

import re

from playwright.sync_api import expect

from tests.browser.data import SUPERUSER, create_product, unique
from tests.browser.pages import changelist_row, expect_signed_in, sign_in, submit

CUSTOMER = "customer1@example.com"
SOMEONE_ELSE = "customer4@example.com"


def test_find_a_customer_their_addresses_and_orders_and_back(
    page, catalog_api, order_for, databases, screenshot
):
    product = create_product(catalog_api, sku=unique("LOOKUP"), stock=10)
    theirs = order_for(CUSTOMER, [(product["id"], 1)])["number"]
    not_theirs = order_for(SOMEONE_ELSE, [(product["id"], 1)])["number"]
    customer_id = databases.user_id(CUSTOMER)
    address = databases.auth.row(
        "SELECT line1, city FROM accounts_address WHERE user_id = %s", customer_id
    )
    sign_in(page, *SUPERUSER, at="/auth/admin/")
    expect_signed_in(page, SUPERUSER[0])

    # Find the customer by email in the auth admin.
    page.goto("/auth/admin/auth/user/")
    page.fill("#searchbar", CUSTOMER)
    submit(page, "#changelist-search [type=submit]")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(changelist_row(page, CUSTOMER).locator("a.customer-orders")).to_have_attribute(
        "href", f"/orders/admin/orders/order/?user_id={customer_id}"
    )
    screenshot(page, "customer-found")
    page.get_by_role("link", name=CUSTOMER).click()

    # Their change page: the saved address inline, and the links.
    expect(page.locator("#id_email")).to_have_value(CUSTOMER)
    expect(page.locator("#addresses-group input[name='addresses-0-line1']")).to_have_value(
        address["line1"]
    )
    screenshot(page, "customer-with-address")
    page.locator("a.customer-addresses").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text(address["city"])
    screenshot(page, "customer-addresses")
    page.go_back()

    # To their orders, in the orders admin: theirs, and only theirs.
    page.locator("a.customer-orders").click()
    expect(page).to_have_url(re.compile(rf"/orders/admin/orders/order/\?user_id={customer_id}$"))
    expect_signed_in(page, SUPERUSER[0])
    expect(changelist_row(page, theirs)).to_have_count(1)
    expect(changelist_row(page, not_theirs)).to_have_count(0)
    expected = databases.ecommerce.value(
        "SELECT COUNT(*) FROM orders_order WHERE user_id = %s", customer_id
    )
    expect(page.locator("#result_list tbody tr")).to_have_count(expected)
    screenshot(page, "customer-orders")

    # And from an order back to the customer.
    page.get_by_role("link", name=theirs).click()
    page.locator(".field-customer a").click()
    expect(page).to_have_url(re.compile(rf"/auth/admin/auth/user/{customer_id}/change/$"))
    expect(page.locator("#id_email")).to_have_value(CUSTOMER)
    screenshot(page, "back-to-the-customer")
