"""Products to and from CSV, one implementation for the admin and the management commands.

The columns are the product's editable fields (catalog.models.PRODUCT_EDITABLE_FIELDS),
in that order; export writes all of them:

    sku, name, slug, description, category, price, tax_rate, tax_class, stock, is_active,
    image_url, weight

`category` is a category slug, `tax_class` one of standard, reduced, super_reduced,
zero, `is_active` is true/false, `weight` is in kg and may
be empty. An import matches products by `sku`: known skus are updated, others
created. Only `sku` is a required column; a column left out of the file leaves that
field as it is (so `sku,stock` updates stock alone). An empty cell of a new product
means the model's default; a new product needs at least `name`, `price` and `tax_rate`.

Each row is validated as the product it makes, by the same rules as every other
product write (catalog.services.product_full_clean: the model's fields, limits and
slug rule; uniqueness of sku and slug checked for the whole file at once).
An import is all or nothing: a file with any bad row changes nothing and reports
each bad row with its line number. Everything happens in one transaction, with the
existing rows locked in id order (stock set from a file waits for running
reservations and then wins, like an API write without `expected_stock`).
"""

import csv
from dataclasses import dataclass, field
from typing import Any, TextIO

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from catalog.errors import CatalogErrorCode
from catalog.models import PRODUCT_EDITABLE_FIELDS, Category, Product
from catalog.services import product_build, product_full_clean, run_with_lock_retries
from shopkit.errors import ApplicationError
from shopkit.fields import TaxRateField
from shopkit.routers import ECOMMERCE_DB

CSV_COLUMNS = PRODUCT_EDITABLE_FIELDS
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


def _cell_field(column: str) -> forms.Field:
    """How one cell is read: the model field's own form field (its type and size), as
    the admin form reads it; every value rule is then the product's full_clean."""
    if column == "category":  # a category's slug
        return Category._meta.get_field("slug").formfield(required=False)
    if column == "is_active":
        return ActiveFlagField(required=False)
    model_field = Product._meta.get_field(column)
    options: dict[str, Any] = {"required": column == "sku"}
    if isinstance(model_field, models.URLField):
        options["assume_scheme"] = "https"  # Django 6's default, without the warning
    return model_field.formfield(**options)


# One cell -> one value. Fields are stateless, so one set serves every row (a Form
# per row would deep-copy them 100,000 times).
ROW_FIELDS: dict[str, forms.Field] = {column: _cell_field(column) for column in CSV_COLUMNS}


def _messages(error: ValidationError) -> str:
    if not hasattr(error, "error_dict"):
        return " ".join(error.messages)
    return "; ".join(
        " ".join(messages) if name == NON_FIELD_ERRORS else f"{name}: {' '.join(messages)}"
        for name, messages in error.message_dict.items()
    )


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
    """Parse every row and read its cells; problems are appended to `errors`."""
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
            sku = values["sku"]
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
            rows.append(_Row(line=line, values=values))
    except csv.Error as exc:
        errors.append(CsvLineError(reader.line_num, f"unreadable CSV ({exc})"))
    return header, rows


def _existing_ids(skus: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(skus), BATCH_SIZE):
        chunk = skus[start : start + BATCH_SIZE]
        found.update(Product.objects.filter(sku__in=chunk).values_list("sku", "pk"))
    return found


def _model_field(name: str):
    return Product._meta.get_field("category" if name == "category_id" else name)


def _emptied(values: dict[str, Any], *, new: bool) -> tuple[dict[str, Any], list[str]]:
    """An empty cell of a field that cannot be null: the model's default for a new
    product, an error for an existing one (its value cannot be removed)."""
    kept, emptied = {}, []
    for name, value in values.items():
        model_field = _model_field(name)
        if value is not None or model_field.null:
            kept[name] = value
        elif not (new and model_field.has_default()):
            emptied.append(name)
    return kept, emptied


def _check_slugs(checked: list[tuple[_Row, Product]], errors: list[CsvLineError]) -> None:
    """The slug rule of every product write (unique), for all rows in a few queries."""
    slug_owner: dict[str, tuple[str, int]] = {}
    for row, product in checked:
        if product.slug in slug_owner:
            errors.append(
                CsvLineError(
                    row.line,
                    f"slug {product.slug} already used on line {slug_owner[product.slug][1]}",
                )
            )
            continue
        slug_owner[product.slug] = (product.sku, row.line)
    taken = list(slug_owner)
    for start in range(0, len(taken), BATCH_SIZE):
        chunk = taken[start : start + BATCH_SIZE]
        for slug, owner_sku in Product.objects.filter(slug__in=chunk).values_list("slug", "sku"):
            sku, line = slug_owner[slug]
            if owner_sku != sku:
                errors.append(CsvLineError(line, f"slug {slug} belongs to product {owner_sku}"))


def _apply(rows: list[_Row], existing_ids: dict[str, int]) -> CsvImportResult:
    """Validate every row as the product it makes, then write them all, or raise
    CsvImportError and write nothing."""
    result = CsvImportResult()
    errors: list[CsvLineError] = []
    now = timezone.now()
    with transaction.atomic(using=ECOMMERCE_DB):
        # Lock what will be updated, in id order (the catalog's lock order), and
        # apply the file to the current values.
        ids = sorted(existing_ids.values())
        locked: dict[str, Product] = {}
        for start in range(0, len(ids), BATCH_SIZE):
            chunk = Product.objects.select_for_update().filter(
                pk__in=ids[start : start + BATCH_SIZE]
            )
            locked.update({product.sku: product for product in chunk.order_by("id")})
        checked: list[tuple[_Row, Product]] = []
        to_create, to_update, changed_fields = [], [], set()
        for row in rows:
            current = locked.get(row.values["sku"])
            values, emptied = _emptied(row.values, new=current is None)
            if emptied:
                errors.append(CsvLineError(row.line, f"{', '.join(emptied)} cannot be empty"))
                continue
            before = {} if current is None else {n: getattr(current, n) for n in values}
            product = product_build(data=values, product=current)
            try:
                product_full_clean(product, checked_in_bulk=True)
            except ValidationError as exc:
                errors.append(CsvLineError(row.line, _messages(exc)))
                continue
            checked.append((row, product))
            if current is None:
                to_create.append(product)
                continue
            changes = [name for name in values if before[name] != getattr(product, name)]
            if not changes:
                result.unchanged += 1
                continue
            product.updated_at = now
            changed_fields.update(changes)
            to_update.append(product)
        _check_slugs(checked, errors)
        if errors:
            raise CsvImportError(sorted(errors, key=lambda error: error.line)[:MAX_REPORTED_ERRORS])
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
    existing_ids = _existing_ids([row.values["sku"] for row in rows])
    try:
        return run_with_lock_retries(lambda: _apply(rows, existing_ids))
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
