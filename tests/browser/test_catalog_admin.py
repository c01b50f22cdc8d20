"""The catalog back-office: products with category and stock, list editing, CSV, low stock."""

import csv
import re

import requests
from playwright.sync_api import expect

from tests.browser.data import CATALOG_MANAGER, create_product, unique
from tests.browser.pages import changelist_row, expect_signed_in, messages, sign_in, submit

PRODUCTS = "/catalog/admin/catalog/product/"


def sign_in_catalog_manager(page):
    sign_in(page, *CATALOG_MANAGER, at="/catalog/admin/")
    expect_signed_in(page, CATALOG_MANAGER[0])


def test_create_a_category_and_a_product_in_it_with_stock(page, gateway, databases, screenshot):
    sign_in_catalog_manager(page)
    word = unique("Lamps")
    sku = unique("LAMP")

    page.goto("/catalog/admin/catalog/category/add/")
    page.locator("#id_name").press_sequentially(word)  # typed: the slug fills itself
    expect(page.locator("#id_slug")).to_have_value(word.lower())
    submit(page, "input[name=_save]")
    expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")
    category_id = databases.ecommerce.value(
        "SELECT id FROM catalog_category WHERE slug = %s", word.lower()
    )
    assert category_id is not None

    page.goto(f"{PRODUCTS}add/")
    page.fill("#id_sku", sku)
    page.fill("#id_name", f"Desk lamp {word}")
    page.fill("#id_slug", f"desk-lamp-{sku.lower()}")
    page.select_option("#id_category", label=word)
    page.fill("#id_description", "A lamp for the desk.")
    page.fill("#id_price", "39.90")
    page.fill("#id_tax_rate", "0.21")
    page.fill("#id_stock", "-1")  # a bad value first: refused, nothing saved
    screenshot(page, "product-form-filled")
    submit(page, "input[name=_save]")
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".field-stock .errorlist")).to_contain_text("greater than or equal to 0")
    assert databases.product(sku) is None
    screenshot(page, "negative-stock-refused")

    page.fill("#id_stock", "25")
    submit(page, "input[name=_save]")
    expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")
    expect(changelist_row(page, sku)).to_contain_text(word)
    screenshot(page, "product-added")

    row = databases.product(sku)
    assert (row["category_id"], row["stock"], str(row["price"]), row["is_active"]) == (
        category_id,
        25,
        "39.90",
        1,
    )
    # The storefront sees it at once, in its category.
    listed = requests.get(
        f"{gateway.url}/api/v1/catalog/products/", params={"category": word.lower()}, timeout=10
    ).json()
    assert [(p["sku"], p["stock"]) for p in listed["results"]] == [(sku, 25)]


def test_bulk_change_stock_and_price_from_the_list(page, catalog_api, databases, screenshot):
    prefix = unique("BULK")
    skus = [f"{prefix}-{n}" for n in range(3)]
    for sku in skus:
        create_product(catalog_api, sku=sku, stock=10, price="5.00")
    sign_in_catalog_manager(page)

    page.goto(f"{PRODUCTS}?q={prefix}")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    changes = {skus[0]: ("7.25", "3"), skus[1]: ("5.00", "40"), skus[2]: ("11.00", "0")}
    for sku, (price, stock) in changes.items():
        row = changelist_row(page, sku)
        row.locator("input[name^='form-'][name$='-price']").fill(price)
        row.locator("input[name^='form-'][name$='-stock']").fill(stock)
    screenshot(page, "list-edited")
    submit(page, "input[name=_save]")
    expect(page.locator("ul.messagelist")).to_contain_text("3 products were changed successfully")
    screenshot(page, "list-saved")

    for sku, (price, stock) in changes.items():
        row = databases.product(sku)
        assert (str(row["price"]), row["stock"]) == (price, int(stock)), sku

    # A negative stock in one row: the whole list is refused and nothing changes.
    changelist_row(page, skus[0]).locator("input[name^='form-'][name$='-stock']").fill("-5")
    changelist_row(page, skus[1]).locator("input[name^='form-'][name$='-stock']").fill("41")
    submit(page, "input[name=_save]")
    expect(page.locator(".errornote")).to_be_visible()
    screenshot(page, "list-refused")
    assert [databases.product(sku)["stock"] for sku in skus] == [3, 40, 0]


def test_export_the_catalogue_and_import_stock_by_sku(page, catalog_api, databases, screenshot):
    sku = unique("CSV")
    create_product(catalog_api, sku=sku, stock=8, price="19.99")
    sign_in_catalog_manager(page)
    page.goto(PRODUCTS)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export all to CSV").click()
    download = download_info.value
    assert re.fullmatch(r"products-\d{8}-\d{6}\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8", newline="") as exported_file:
        exported = list(csv.DictReader(exported_file))
    mine = [row for row in exported if row["sku"] == sku]
    assert [(row["stock"], row["price"], row["is_active"]) for row in mine] == [
        ("8", "19.99", "true")
    ]
    assert len(exported) == databases.ecommerce.value("SELECT COUNT(*) FROM catalog_product")

    # An import that updates the stock by sku.
    page.get_by_role("link", name="Import CSV").click()
    expect(page.locator("h1")).to_have_text("Import products from CSV")
    page.set_input_files(
        "input[type=file]",
        files=[
            {
                "name": "stock.csv",
                "mimeType": "text/csv",
                "buffer": f"sku,stock\n{sku},42\n".encode(),
            }
        ],
    )
    screenshot(page, "import-form")
    submit(page, "input[type=submit][value=Import]")
    expect(page.locator("ul.messagelist")).to_contain_text(
        "Imported: 0 created, 1 updated, 0 unchanged."
    )
    screenshot(page, "imported")
    assert databases.product(sku)["stock"] == 42

    # A file with one bad row changes nothing and says which line is wrong.
    page.goto(f"{PRODUCTS}import-csv/")
    page.set_input_files(
        "input[type=file]",
        files=[
            {
                "name": "bad.csv",
                "mimeType": "text/csv",
                "buffer": f"sku,stock\n{sku},50\n{sku}-NEW,-3\n".encode(),
            }
        ],
    )
    submit(page, "input[type=submit][value=Import]")
    expect(page.locator("#csv-line-errors")).to_contain_text("Line 3")
    screenshot(page, "import-refused")
    assert databases.product(sku)["stock"] == 42
    assert databases.product(f"{sku}-NEW") is None


def test_find_low_stock_products_with_the_filter(page, catalog_api, databases, screenshot):
    prefix = unique("LOW")
    stocks = {f"{prefix}-SOLDOUT": 0, f"{prefix}-FEW": 3, f"{prefix}-PLENTY": 50}
    for sku, stock in stocks.items():
        create_product(catalog_api, sku=sku, stock=stock)
    sign_in_catalog_manager(page)

    page.goto(f"{PRODUCTS}?q={prefix}")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    page.locator("#changelist-filter").get_by_role("link", name=re.compile("^Fewer than")).click()
    expect(page).to_have_url(re.compile(r"low_stock=yes"))
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    screenshot(page, "low-stock")

    shown = {sku for sku in stocks if changelist_row(page, sku).count() == 1}
    low_in_db = {
        row["sku"]
        for row in databases.ecommerce.rows(
            "SELECT sku FROM catalog_product WHERE sku LIKE %s AND stock < 5", f"{prefix}-%"
        )
    }
    assert shown == low_in_db == {f"{prefix}-SOLDOUT", f"{prefix}-FEW"}
    assert messages(page) == []
