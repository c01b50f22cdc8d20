"""What each databases group may do follows Django permissions, in every admin.

"Catalog managers" edit products and get 403 on order changes; "Order managers"
run orders and may only look at products. Refusals are the server's (403 on a
direct POST), not just hidden buttons, and leave the databases unchanged.
"""

import pytest
from playwright.sync_api import expect

from tests.browser.data import CATALOG_MANAGER, ORDER_MANAGER, create_product, unique
from tests.browser.pages import expect_signed_in, post_form, sign_in, submit

NOTHING_TO_SEE = "You don’t have permission to view or edit anything."


@pytest.fixture
def product_and_order(catalog_api, order_for, databases):
    product = create_product(catalog_api, sku=unique("PERM"), stock=10, price="12.00")
    order = order_for("customer5@example.com", [(product["id"], 1)])
    return product, order


def test_a_catalog_manager_changes_products_but_not_orders(
    page, product_and_order, databases, screenshot
):
    product, order = product_and_order
    sign_in(page, *CATALOG_MANAGER, at="/catalog/admin/")
    expect_signed_in(page, CATALOG_MANAGER[0])

    page.goto(f"/catalog/admin/catalog/product/{product['id']}/change/")
    page.fill("#id_price", "13.50")
    submit(page, "input[name=_save]")
    expect(page.locator("ul.messagelist")).to_contain_text("was changed successfully")
    screenshot(page, "product-changed")
    assert str(databases.product(product["sku"])["price"]) == "13.50"

    page.goto("/orders/admin/")
    expect(page.locator("#content-main")).to_contain_text(NOTHING_TO_SEE)
    screenshot(page, "orders-admin-shows-nothing")

    response = page.goto(f"/orders/admin/orders/order/{order['id']}/change/")
    assert response.status == 403
    assert page.goto("/orders/admin/orders/order/").status == 403
    status = post_form(
        page,
        "/orders/admin/orders/order/",
        {"action": "mark_cancelled", "_selected_action": str(order["id"]), "index": "0"},
    )
    assert status == 403
    assert databases.order(order["number"])["status"] == "pending"
    assert [h["to_status"] for h in databases.order_history(order["number"])] == ["pending"]
    assert databases.product(product["sku"])["stock"] == 9  # the order still holds its unit


def test_an_order_manager_runs_orders_but_only_looks_at_products(
    page, product_and_order, databases, screenshot
):
    product, order = product_and_order
    sign_in(page, *ORDER_MANAGER, at="/orders/admin/")
    expect_signed_in(page, ORDER_MANAGER[0])

    page.goto(f"/orders/admin/orders/order/{order['id']}/change/")
    expect(page.locator("#content-main")).to_contain_text(order["number"])
    page.goto("/orders/admin/orders/order/")
    expect(page.locator("select[name=action]")).to_contain_text("Confirm selected orders")

    # Products: a read-only page, no list editing, no import.
    page.goto(f"/catalog/admin/catalog/product/{product['id']}/change/")
    expect(page.locator("h1")).to_have_text("View product")
    expect(page.locator("#id_price")).to_have_count(0)
    expect(page.locator("input[name=_save]")).to_have_count(0)
    screenshot(page, "product-read-only")
    page.goto(f"/catalog/admin/catalog/product/?q={product['sku']}")
    expect(page.locator("#result_list")).to_contain_text(product["sku"])
    expect(page.locator("input[name$='-stock']")).to_have_count(0)
    expect(page.get_by_role("link", name="Import CSV")).to_have_count(0)
    screenshot(page, "product-list-read-only")

    status = post_form(
        page,
        f"/catalog/admin/catalog/product/{product['id']}/change/",
        {"sku": product["sku"], "name": product["name"], "price": "0.01", "stock": "999"},
    )
    assert status == 403
    assert page.goto("/catalog/admin/catalog/product/import-csv/").status == 403
    assert page.goto("/catalog/admin/catalog/product/add/").status == 403
    row = databases.product(product["sku"])
    assert (str(row["price"]), row["stock"]) == ("12.00", 9)

    # Customers' accounts: looked up (to serve an order), never changed.
    page.goto("/auth/admin/")
    users_row = page.locator("#content-main tr", has=page.get_by_role("link", name="Users"))
    expect(users_row).to_contain_text("View")
    expect(page.locator("#content-main a.addlink")).to_have_count(0)
    assert page.goto("/auth/admin/auth/user/add/").status == 403
