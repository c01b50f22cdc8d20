"""Products to and from CSV, one implementation for the admin and the management commands.

Columns (export writes all of them, in this order):

    sku, name, slug, description, category, price, tax_rate, stock, is_active,
    image_url, weight

`category` is a category slug, `is_active` is true/false, `weight` is in kg and may
be empty. An import matches products by `sku`: known skus are updated, others
created. Only `sku` is a required column; a column left out of the file leaves that
field as it is (so `sku,stock` updates stock alone). A new product needs `name`,
`price` and `tax_rate`.

An import is all or nothing: every row is validated first, and a file with any bad
row changes nothing and reports each bad row with its line number. The changes
are then applied in one transaction, with the existing rows locked in id order
(stock set from a file waits for running reservations, like the admin's).
"""

import csv
from dataclasses import dataclass, field
from typing import Any, TextIO

from django import forms
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from catalog.errors import CatalogErrorCode
from catalog.models import MAX_STOCK, Category, Product
from catalog.services import default_product_slug, run_with_lock_retries
from shopkit.errors import ApplicationError
from shopkit.fields import TaxRateField
from shopkit.routers import ECOMMERCE_DB

CSV_COLUMNS = (
    "sku",
    "name",
    "slug",
    "description",
    "category",
    "price",
    "tax_rate",
    "stock",
    "is_active",
    "image_url",
    "weight",
)
REQUIRED_FOR_NEW = ("name", "price", "tax_rate")
# Columns that may not be emptied on an existing product.
NOT_BLANK = ("name", "price", "tax_rate", "stock", "is_active")
MAX_REPORTED_ERRORS = 50
BATCH_SIZE = 1000
TRUE_WORDS = {"true", "1", "yes", "y"}
FALSE_WORDS = {"false", "0", "no", "n"}


# --- Export -----------------------------------------------------------------------------


_TAX_RATE = TaxRateField()  # "0.21", as the API writes it


def _cell(field: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if field == "tax_rate":
        return _TAX_RATE.to_representation(value)
    return str(value)


def products_export_csv(*, output: TextIO, products: QuerySet[Product] | None = None) -> int:
    """Write `products` (default: all) as CSV to `output`; returns the number of rows.

    One query (the category slug comes from a join), streamed in chunks.
    """
    products = Product.objects.all() if products is None else products
    writer = csv.writer(output)
    writer.writerow(CSV_COLUMNS)
    # The category column holds the category's slug.
    fields = tuple("category__slug" if column == "category" else column for column in CSV_COLUMNS)
    rows = products.order_by("id").values_list(*fields)
    count = 0
    for row in rows.iterator(chunk_size=BATCH_SIZE):
        writer.writerow([_cell(field, value) for field, value in zip(fields, row, strict=True)])
        count += 1
    return count


# --- Import -----------------------------------------------------------------------------


@dataclass
class CsvImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class CsvLineError:
    line: int
    message: str

    def __str__(self):
        return f"line {self.line}: {self.message}"


class CsvImportError(ApplicationError):
    """The file was refused; `line_errors` says which rows and why. Nothing was applied."""

    status = 400
    code = CatalogErrorCode.CSV_INVALID

    def __init__(self, line_errors: list[CsvLineError]):
        self.line_errors = line_errors
        first = line_errors[0]
        more = f" (and {len(line_errors) - 1} more)" if len(line_errors) > 1 else ""
        super().__init__(
            f"Line {first.line}: {first.message}{more}. Nothing was imported.",
            extra={"lines": [{"line": e.line, "message": e.message} for e in line_errors]},
        )


class ActiveFlagField(forms.CharField):
    def to_python(self, value):
        text = super().to_python(value).strip().lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        if not text:
            return None
        raise forms.ValidationError("Use true or false.")


# One CSV cell → one value. Every column but sku is optional here; the importer
# decides what a new or an existing product must have. Fields are stateless, so
# one set serves every row (a Form per row would deep-copy them 100,000 times).
ROW_FIELDS: dict[str, forms.Field] = {
    "sku": forms.CharField(max_length=64),
    "name": forms.CharField(max_length=200, required=False),
    "slug": forms.SlugField(max_length=200, required=False),
    "description": forms.CharField(required=False, strip=False),
    "category": forms.CharField(max_length=140, required=False),
    "price": forms.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False),
    "tax_rate": forms.DecimalField(
        max_digits=5, decimal_places=4, min_value=0, max_value=1, required=False
    ),
    "stock": forms.IntegerField(min_value=0, max_value=MAX_STOCK, required=False),
    "is_active": ActiveFlagField(required=False),
    "image_url": forms.URLField(max_length=500, required=False, assume_scheme="https"),
    "weight": forms.DecimalField(max_digits=8, decimal_places=3, min_value=0, required=False),
}


def _clean_row(record: dict[str, str]) -> tuple[dict[str, Any], str]:
    """(values, "") for a good row, or ({}, "field: message; …") for a bad one."""
    values, problems = {}, []
    for name, raw in record.items():
        try:
            values[name] = ROW_FIELDS[name].clean(raw or "")
        except forms.ValidationError as exc:
            problems.append(f"{name}: {' '.join(exc.messages)}")
    return (values, "") if not problems else ({}, "; ".join(problems))


@dataclass
class _Row:
    line: int
    values: dict[str, Any] = field(default_factory=dict)


def _read_rows(source: TextIO, errors: list[CsvLineError]) -> tuple[list[str], list[_Row]]:
    """Parse and validate every row; problems are appended to `errors`."""
    reader = csv.DictReader(source)
    try:
        header = [name.strip() for name in (reader.fieldnames or [])]
    except csv.Error as exc:
        errors.append(CsvLineError(1, f"unreadable CSV ({exc})"))
        return [], []
    reader.fieldnames = header
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if "sku" not in header or unknown or len(set(header)) != len(header):
        errors.append(
            CsvLineError(
                1,
                "the header must name a sku column and only these columns, once each: "
                + ", ".join(CSV_COLUMNS)
                + (f" (unknown: {', '.join(unknown)})" if unknown else ""),
            )
        )
        return header, []
    categories = dict(Category.objects.values_list("slug", "id"))
    rows: list[_Row] = []
    first_line_of_sku: dict[str, int] = {}
    try:
        for record in reader:
            if len(errors) >= MAX_REPORTED_ERRORS:
                break
            line = reader.line_num
            if None in record:
                errors.append(CsvLineError(line, "more cells than header columns"))
                continue
            if not any((value or "").strip() for value in record.values()):
                continue  # blank line
            values, problem = _clean_row(record)
            if problem:
                errors.append(CsvLineError(line, problem))
                continue
            sku = values.pop("sku")
            if sku in first_line_of_sku:
                errors.append(
                    CsvLineError(
                        line, f"sku {sku} already appears on line {first_line_of_sku[sku]}"
                    )
                )
                continue
            first_line_of_sku[sku] = line
            if "category" in values:
                category_slug = values.pop("category")
                if category_slug and category_slug not in categories:
                    errors.append(CsvLineError(line, f"unknown category {category_slug}"))
                    continue
                values["category_id"] = categories[category_slug] if category_slug else None
            if "slug" in values and not values["slug"]:
                del values["slug"]  # empty: keep the current slug (or make one)
            rows.append(_Row(line=line, values={"sku": sku, **values}))
    except csv.Error as exc:
        errors.append(CsvLineError(reader.line_num, f"unreadable CSV ({exc})"))
    return header, rows


@dataclass(frozen=True)
class _Existing:
    pk: int
    slug: str


def _existing_products(skus: list[str]) -> dict[str, _Existing]:
    found: dict[str, _Existing] = {}
    for start in range(0, len(skus), BATCH_SIZE):
        chunk = skus[start : start + BATCH_SIZE]
        for sku, pk, slug in Product.objects.filter(sku__in=chunk).values_list("sku", "pk", "slug"):
            found[sku] = _Existing(pk=pk, slug=slug)
    return found


def _check_rows(rows: list[_Row], existing: dict[str, _Existing], errors: list[CsvLineError]):
    """Rules that need the database: required fields of new products, slugs in use."""
    slug_owner: dict[str, tuple[str, int]] = {}
    for row in rows:
        sku = row.values["sku"]
        product = existing.get(sku)
        if product is None:
            missing = [name for name in REQUIRED_FOR_NEW if row.values.get(name) in (None, "")]
            if missing:
                errors.append(CsvLineError(row.line, f"a new product needs {', '.join(missing)}"))
                continue
            for name in ("stock", "is_active"):  # empty: the model's default
                if row.values.get(name, ...) is None:
                    del row.values[name]
        else:
            emptied = [
                name for name in NOT_BLANK if name in row.values and row.values[name] in (None, "")
            ]
            if emptied:
                errors.append(CsvLineError(row.line, f"{', '.join(emptied)} cannot be empty"))
                continue
        slug = row.values.get("slug") or (
            product.slug if product else default_product_slug(name=row.values["name"], sku=sku)
        )
        if not slug:
            errors.append(CsvLineError(row.line, "no slug can be made from this name and sku"))
            continue
        row.values["slug"] = slug
        if slug in slug_owner:
            errors.append(
                CsvLineError(row.line, f"slug {slug} already used on line {slug_owner[slug][1]}")
            )
            continue
        slug_owner[slug] = (sku, row.line)
    taken = list(slug_owner)
    for start in range(0, len(taken), BATCH_SIZE):
        chunk = taken[start : start + BATCH_SIZE]
        for slug, owner_sku in Product.objects.filter(slug__in=chunk).values_list("slug", "sku"):
            sku, line = slug_owner[slug]
            if owner_sku != sku:
                errors.append(CsvLineError(line, f"slug {slug} belongs to product {owner_sku}"))
    errors.sort(key=lambda error: error.line)


def _apply(rows: list[_Row], existing: dict[str, _Existing]) -> CsvImportResult:
    result = CsvImportResult()
    now = timezone.now()
    with transaction.atomic(using=ECOMMERCE_DB):
        # Lock what will be updated, in id order (the catalog's lock order), and
        # apply the file to the current values.
        ids = sorted(product.pk for product in existing.values())
        locked: dict[str, Product] = {}
        for start in range(0, len(ids), BATCH_SIZE):
            chunk = Product.objects.select_for_update().filter(
                pk__in=ids[start : start + BATCH_SIZE]
            )
            locked.update({product.sku: product for product in chunk.order_by("id")})
        to_create, to_update, changed_fields = [], [], set()
        for row in rows:
            product = locked.get(row.values["sku"])
            if product is None:
                to_create.append(Product(**row.values))
                continue
            changes = {
                name: value for name, value in row.values.items() if getattr(product, name) != value
            }
            if not changes:
                result.unchanged += 1
                continue
            for name, value in changes.items():
                setattr(product, name, value)
            product.updated_at = now
            changed_fields.update(changes)
            to_update.append(product)
        Product.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        if to_update:
            Product.objects.bulk_update(
                to_update, [*sorted(changed_fields), "updated_at"], batch_size=BATCH_SIZE
            )
        result.created, result.updated = len(to_create), len(to_update)
    return result


def products_import_csv(*, source: TextIO) -> CsvImportResult:
    """Create or update products from CSV text, all or nothing (see the module docstring).

    Raises CsvImportError (a 400 problem) listing the bad lines; nothing is applied then.
    """
    errors: list[CsvLineError] = []
    _, rows = _read_rows(source, errors)
    if not errors and not rows:
        errors.append(CsvLineError(1, "the file has no product rows"))
    if errors:
        raise CsvImportError(errors)
    existing = _existing_products([row.values["sku"] for row in rows])
    _check_rows(rows, existing, errors)
    if errors:
        raise CsvImportError(errors)
    try:
        return run_with_lock_retries(lambda: _apply(rows, existing))
    except IntegrityError as exc:
        # A concurrent change made a sku or slug collide after the checks above.
        raise CsvImportError([CsvLineError(1, f"conflicts with a concurrent change ({exc})")])


def decode_upload(raw: bytes) -> str:
    """Uploaded bytes as text (UTF-8, with or without the BOM spreadsheets add)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvImportError(
            [CsvLineError(1, f"the file is not UTF-8 text (byte {exc.start})")]
        ) from None
