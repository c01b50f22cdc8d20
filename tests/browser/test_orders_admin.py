"""The orders back-office: find orders, read them, move them along, cancel one.

Two real checkouts through the gateway; the order manager ships one with the
admin actions (confirm → process → ship → deliver) and cancels the other, whose
units go back to the catalog. Both histories name that staff member.
"""

import pytest
from playwright.sync_api import expect

from tests.browser.data import ORDER_MANAGER, create_product, unique
from tests.browser.pages import (
    changelist_row,
    expect_signed_in,
    messages,
    run_action,
    sign_in,
    submit,
)

ORDERS = "/orders/admin/orders/order/"
CUSTOMER = "customer2@example.com"
SHIP = "Mark selected orders shipped (asks for tracking)"
SHIPPING = [
    ("Confirm selected orders", "confirmed"),
    ("Start processing selected orders", "processing"),
    (SHIP, "shipped"),
    ("Mark selected orders delivered", "delivered"),
]
CANCEL = "Cancel selected orders (stock goes back)"


@pytest.fixture
def two_orders(catalog_api, order_for):
    lamp = create_product(catalog_api, sku=unique("LAMP"), stock=10, price="40.00")
    bulb = create_product(catalog_api, sku=unique("BULB"), stock=5, price="5.00")
    shipped = order_for(CUSTOMER, [(lamp["id"], 2)])
    cancelled = order_for(CUSTOMER, [(lamp["id"], 3), (bulb["id"], 1)])
    return {"lamp": lamp, "bulb": bulb, "shipped": shipped, "cancelled": cancelled}


def search(page, text: str) -> None:
    page.fill("#searchbar", text)
    submit(page, "#changelist-search [type=submit]")


def test_find_read_ship_and_cancel_orders(page, two_orders, databases, screenshot):
    lamp, bulb = two_orders["lamp"], two_orders["bulb"]
    shipped, cancelled = two_orders["shipped"]["number"], two_orders["cancelled"]["number"]
    assert [databases.product(p["sku"])["stock"] for p in (lamp, bulb)] == [5, 4]
    staff_id = databases.user_id(ORDER_MANAGER[0])
    sign_in(page, *ORDER_MANAGER, at="/orders/admin/")
    expect_signed_in(page, ORDER_MANAGER[0])

    # Find: by number (one order), by the customer's email (both).
    page.goto(ORDERS)
    search(page, shipped)
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(changelist_row(page, shipped)).to_contain_text(CUSTOMER)
    screenshot(page, "found-by-number")
    search(page, CUSTOMER.upper())
    for number in (shipped, cancelled):
        expect(changelist_row(page, number)).to_contain_text("Pending")
    screenshot(page, "found-by-email")

    # Read: its lines and its history.
    page.get_by_role("link", name=cancelled).click()
    expect(page.locator("#content-main")).to_contain_text(cancelled)
    lines = page.locator("#lines-group tbody tr.has_original")
    expect(lines.filter(has_text=lamp["sku"])).to_contain_text("3")
    expect(lines.filter(has_text=bulb["sku"])).to_contain_text("1")
    expect(page.locator("#history-group")).to_contain_text("Pending")
    screenshot(page, "order-lines-and-history")

    # Ship one: four actions, each through the orders service.
    page.goto(f"{ORDERS}?q={CUSTOMER}")
    for action, status in SHIPPING:
        shown = run_action(page, row_text=shipped, action=action)
        if action == SHIP:  # an intermediate page asks for the carrier and tracking number
            expect(page.locator("#content")).to_contain_text("tracking number its customer")
            page.fill("input[name=ship-0-carrier]", "Correos")
            page.fill("input[name=ship-0-tracking_number]", "PK0701234567")
            screenshot(page, "ship-asks-for-tracking")
            submit(page, "input[type=submit][value=Ship]")
            shown = messages(page)
        assert shown == [f"1 order(s) now {status}: {shipped}."], shown
        assert databases.order(shipped)["status"] == status
    expect(changelist_row(page, shipped)).to_contain_text("Delivered")
    screenshot(page, "shipped-and-delivered")

    # Cancel the other: its units go back to the catalog.
    shown = run_action(page, row_text=cancelled, action=CANCEL)
    assert shown == [f"1 order(s) now cancelled: {cancelled}."], shown
    expect(changelist_row(page, cancelled)).to_contain_text("Cancelled")
    screenshot(page, "cancelled")
    assert databases.order(cancelled)["status"] == "cancelled"
    assert [databases.product(p["sku"])["stock"] for p in (lamp, bulb)] == [8, 5]

    # Moves the status machine forbids are refused, one message each, nothing changes.
    shown = run_action(page, row_text=shipped, action=CANCEL)
    assert len(shown) == 1 and shown[0].startswith(f"{shipped}: "), shown
    shown = run_action(page, row_text=cancelled, action="Confirm selected orders")
    assert len(shown) == 1 and shown[0].startswith(f"{cancelled}: "), shown
    screenshot(page, "refused-moves")
    assert (databases.order(shipped)["status"], databases.order(cancelled)["status"]) == (
        "delivered",
        "cancelled",
    )
    assert [databases.product(p["sku"])["stock"] for p in (lamp, bulb)] == [8, 5]

    # Both histories name the staff member, in the database and on the page.
    staff = (staff_id, ORDER_MANAGER[0])
    assert [
        (h["from_status"], h["to_status"], h["by_user_id"], h["by_email"])
        for h in databases.order_history(shipped)[1:]
    ] == [
        ("pending", "confirmed", *staff),
        ("confirmed", "processing", *staff),
        ("processing", "shipped", *staff),
        ("shipped", "delivered", *staff),
    ]
    assert [
        (h["from_status"], h["to_status"], h["by_user_id"], h["by_email"])
        for h in databases.order_history(cancelled)[1:]
    ] == [("pending", "cancelled", *staff)]
    for number, moves in ((shipped, 4), (cancelled, 1)):
        page.goto(f"{ORDERS}?q={number}")
        page.get_by_role("link", name=number).click()
        history = page.locator("#history-group tbody tr.has_original")  # not inlines.js' add-row
        expect(history).to_have_count(1 + moves)
        expect(history.filter(has_text=ORDER_MANAGER[0])).to_have_count(moves)
        screenshot(page, f"history-of-{number}")
