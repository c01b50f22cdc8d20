"""Products to and from CSV: round trip, create-or-update by sku, all or nothing."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.csv_io import CSV_COLUMNS, CsvImportError, products_export_csv, products_import_csv
from catalog.models import Product
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

HEADER = ",".join(CSV_COLUMNS)


def export_text() -> str:
    output = io.StringIO()
    products_export_csv(output=output)
    return output.getvalue()


def import_text(text: str):
    return products_import_csv(source=io.StringIO(text, newline=""))


def snapshot() -> list[tuple]:
    return list(
        Product.objects.order_by("sku").values_list(
            "sku", "name", "slug", "description", "category__slug", "price", "tax_rate",
            "stock", "is_active", "image_url", "weight",
        )
    )  # fmt: skip


@pytest.fixture
def catalogue():
    books = CategoryFactory(slug="books")
    ProductFactory(
        sku="BOOK-1",
        name='Novel, "quoted"',
        description="Line one\nline two, with comma",
        category=books,
        price="9.90",
        tax_rate="0.04",
        stock=3,
        weight="0.450",
        image_url="https://img.example/b1.jpg",
    )
    ProductFactory(sku="LAMP-1", name="Lamp", price="30.00", stock=0, is_active=False)
    return books


def test_export_writes_every_column(catalogue):
    rows = list(csv.DictReader(io.StringIO(export_text())))
    assert [row["sku"] for row in rows] == ["BOOK-1", "LAMP-1"]
    assert rows[0] == {
        "sku": "BOOK-1",
        "name": 'Novel, "quoted"',
        "slug": "book-1",
        "description": "Line one\nline two, with comma",
        "category": "books",
        "price": "9.90",
        "tax_rate": "0.04",
        "tax_class": "standard",
        "stock": "3",
        "is_active": "true",
        "image_url": "https://img.example/b1.jpg",
        "weight": "0.450",
    }
    assert rows[1]["is_active"] == "false" and rows[1]["weight"] == "" and rows[1]["category"] == ""


def test_round_trip_changes_nothing(catalogue):
    before = snapshot()
    result = import_text(export_text())
    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert snapshot() == before


def test_round_trip_into_an_empty_catalogue_recreates_the_products(catalogue):
    text, before = export_text(), snapshot()
    Product.objects.all().delete()
    assert import_text(text).created == 2
    assert snapshot() == before


def test_updates_by_sku_and_creates_new_skus(catalogue):
    result = import_text(
        "sku,name,price,tax_rate,stock,category\n"
        "BOOK-1,Novel (2nd ed.),12.50,0.04,8,books\n"
        "MUG-1,Mug,6.00,0.21,,\n"
    )
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    book = Product.objects.get(sku="BOOK-1")
    assert (book.name, book.price, book.stock) == ("Novel (2nd ed.)", Decimal("12.50"), 8)
    assert book.description == "Line one\nline two, with comma"  # column absent: kept
    mug = Product.objects.get(sku="MUG-1")
    assert (mug.slug, mug.stock, mug.is_active, mug.category) == ("mug-mug-1", 0, True, None)


def test_a_file_with_only_sku_and_stock_sets_stock_alone(catalogue):
    import_text("sku,stock\nBOOK-1,40\nLAMP-1,2\n")
    assert dict(Product.objects.values_list("sku", "stock")) == {"BOOK-1": 40, "LAMP-1": 2}
    assert Product.objects.get(sku="BOOK-1").price == Decimal("9.90")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("sku,price\nBOOK-1,1.00\nLAMP-1,-5\n", 3, "price"),
        ("sku,tax_rate\nBOOK-1,1.5\n", 2, "tax_rate"),
        ("sku,stock\nBOOK-1,2\nLAMP-1,-1\n", 3, "stock"),
        ("sku,stock\nBOOK-1,2\nBOOK-1,3\n", 3, "already appears on line 2"),
        ("sku,category\nBOOK-1,nope\n", 2, "unknown category"),
        ("sku,name,price,tax_rate\nBOOK-1,A,1,0.21\nNEW-1,,1,0.21\n", 3, "name: This field"),
        ("sku,name,tax_rate\nNEW-1,Mug,0.21\n", 2, "price: This field cannot be null"),
        ("sku,slug\nLAMP-1,book-1\n", 2, "slug book-1 belongs to product BOOK-1"),
        ("sku,is_active\nBOOK-1,maybe\n", 2, "is_active"),
        ("sku,name\nBOOK-1,\n", 2, "name: This field cannot be blank"),
        ("sku,stock\nBOOK-1,\n", 2, "stock cannot be empty"),
        ("sku,stock\nBOOK-1,2,9\n", 2, "more cells"),
        ("sku,colour\nBOOK-1,red\n", 1, "unknown: colour"),
        ("name,stock\nLamp,2\n", 1, "sku column"),
        ("sku,stock\n", 1, "no product rows"),
    ],
)
def test_a_bad_row_is_reported_by_line_and_nothing_is_applied(catalogue, text, line, message):
    before = snapshot()
    with pytest.raises(CsvImportError) as raised:
        import_text(text)
    first = raised.value.line_errors[0]
    assert first.line == line
    assert message in first.message
    assert raised.value.status == 400
    assert snapshot() == before


def test_every_bad_row_is_listed(catalogue):
    with pytest.raises(CsvImportError) as raised:
        import_text("sku,stock\nBOOK-1,x\nLAMP-1,1\nNEW-1,y\n")
    assert [error.line for error in raised.value.line_errors] == [2, 4]


def test_line_numbers_count_multiline_cells(catalogue):
    text = 'sku,description,stock\nBOOK-1,"two\nlines",1\nLAMP-1,ok,-1\n'
    with pytest.raises(CsvImportError) as raised:
        import_text(text)
    assert raised.value.line_errors[0].line == 4


def test_commands_round_trip(catalogue, tmp_path, capsys):
    path = tmp_path / "products.csv"
    call_command("export_products", "--output", str(path))
    before = snapshot()
    path.write_text(path.read_text().replace("LAMP-1,Lamp,", "LAMP-1,Big lamp,"))
    out = io.StringIO()
    call_command("import_products", str(path), stdout=out)
    assert "0 created, 1 updated, 1 unchanged" in out.getvalue()
    assert Product.objects.get(sku="LAMP-1").name == "Big lamp"
    assert len(snapshot()) == len(before)


def test_export_command_to_stdout(catalogue, capsys):
    call_command("export_products")
    assert capsys.readouterr().out.startswith(HEADER)


def test_import_command_reports_bad_lines_and_changes_nothing(catalogue, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("sku,stock\nBOOK-1,5\nLAMP-1,-2\n")
    before = snapshot()
    with pytest.raises(CommandError, match="line 3: stock"):
        call_command("import_products", str(path))
    assert snapshot() == before


def test_import_command_refuses_non_utf8_and_missing_files(catalogue, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("sku,name\nBOOK-1,Caña\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_products", str(path))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_products", str(tmp_path / "missing.csv"))
