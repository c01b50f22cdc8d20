"""The product list's query parameters (django-filter). An invalid value is a 400 problem."""

import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import F, FloatField, Func, Q, Value
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from catalog.models import Product
from catalog.selectors import category_subtree_ids

MAX_IDS = 100
MAX_ID = 2**63 - 1  # BIGINT primary keys
MAX_SEARCH_LENGTH = 100

# The search on MySQL/MariaDB goes through the FULLTEXT index of migration 0003.
# InnoDB leaves out of that index words shorter than innodb_ft_min_token_size (3 by
# default) and its default stopwords: such words are only matched as substrings.
FULLTEXT_MIN_TOKEN = 3
FULLTEXT_STOPWORDS = frozenset(
    ("about", "are", "com", "for", "from", "how", "that", "the", "this", "was", "what",
     "when", "where", "who", "will", "with", "und", "www")
)  # fmt: skip
_TOKEN = re.compile(r"\w+")


class MatchAgainst(Func):
    """MySQL/MariaDB `MATCH (columns) AGAINST (query IN BOOLEAN MODE)`: relevance, 0 = no match."""

    output_field = FloatField()

    def __init__(self, *columns: str, query: str):
        super().__init__(*(F(column) for column in columns), Value(query))

    def as_sql(self, compiler, connection, **extra_context):
        *columns, query = (compiler.compile(e) for e in self.get_source_expressions())
        sql = f"MATCH ({', '.join(sql for sql, _ in columns)}) AGAINST ({query[0]} IN BOOLEAN MODE)"
        return sql, [*(p for _, params in columns for p in params), *query[1]]


def is_indexed_word(word: str) -> bool:
    """A word that is one token of the FULLTEXT index (letters and digits, long enough)."""
    return (
        _TOKEN.fullmatch(word) is not None
        and len(word) >= FULLTEXT_MIN_TOKEN
        and word.lower() not in FULLTEXT_STOPWORDS
    )


def fulltext_query(words: list[str]) -> str:
    """A boolean-mode query requiring every indexable token, each as a word prefix."""
    tokens = dict.fromkeys(
        token.lower()
        for word in words
        for token in _TOKEN.findall(word)
        if len(token) >= FULLTEXT_MIN_TOKEN and token.lower() not in FULLTEXT_STOPWORDS
    )
    return " ".join(f"+{token}*" for token in tokens)


def search_products(queryset, value: str):
    """`queryset` narrowed to the products matching the words of `value` (stripped,
    non-empty), most relevant first on MySQL/MariaDB (the `search` parameter)."""
    words = value.split()
    query = fulltext_query(words) if connections[queryset.db].vendor == "mysql" else ""
    for word in words:
        # A whole indexed word is already required by the FULLTEXT match (a word
        # starting with it contains it); the others are matched as substrings.
        if query and is_indexed_word(word):
            continue
        queryset = queryset.filter(
            Q(name__icontains=word) | Q(description__icontains=word) | Q(sku__icontains=word)
        )
    if not query:
        return queryset  # substring search alone (SQLite; only short words)
    # The FULLTEXT index finds the candidates (no table scan). Most relevant
    # first; an `ordering` parameter (applied after this filter) replaces that order.
    return (
        queryset.alias(relevance=MatchAgainst("name", "description", "sku", query=query))
        .filter(relevance__gt=0)
        .order_by(F("relevance").desc(), "name", "id")
    )


PRODUCT_ORDERINGS = (
    ("price", "Price, lowest first"),
    ("-price", "Price, highest first"),
    ("name", "Name"),
    ("-name", "Name, reversed"),
    ("created_at", "Oldest first"),
    ("-created_at", "Newest first"),
)


class IdListField(forms.CharField):
    """A comma-separated list of ids ("1,2,3") → [1, 2, 3], duplicates dropped, order kept.

    Whole numbers that no row can have (0, beyond BIGINT) are dropped rather than
    refused: like any unknown id they match nothing. An absent or empty value is None.
    """

    def __init__(self, *, max_ids: int = MAX_IDS, **kwargs):
        self.max_ids = max_ids
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        parts = [part.strip() for part in text.split(",")]
        if not all(part.isascii() and part.isdigit() for part in parts):
            raise ValidationError(
                "Give ids as whole numbers separated by commas, e.g. 1,2,3.", code="invalid"
            )
        if len(set(parts)) > self.max_ids:
            raise ValidationError(f"At most {self.max_ids} ids at a time.", code="max_ids")
        # Longer than BIGINT's 19 digits: no such row (and no giant int() to parse).
        ids = dict.fromkeys(int(part) for part in parts if len(part) <= len(str(MAX_ID)))
        return [product_id for product_id in ids if 1 <= product_id <= MAX_ID]

    def validate(self, value):
        if value is None and self.required:
            raise ValidationError(self.error_messages["required"], code="required")


@extend_schema_field(OpenApiTypes.STR)
class IdListFilter(django_filters.Filter):
    field_class = IdListField

    def filter(self, queryset, value):
        return queryset if value is None else queryset.filter(pk__in=value)


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": r"^-?\d{1,8}(?:\.\d{1,2})?$",
        "description": "A decimal string, like every amount of money (e.g. 19.99).",
    }
)
class MoneyFilter(django_filters.NumberFilter):
    """A price bound: money is a decimal string in the API, never a float."""

    def __init__(self, **kwargs):
        super().__init__(field_name="price", max_digits=10, decimal_places=2, **kwargs)


class ProductFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(
        method="filter_category",
        max_length=140,
        help_text="Category slug; products of its subcategories are included.",
    )
    min_price = MoneyFilter(lookup_expr="gte", help_text="Lowest price, e.g. 10.00.")
    max_price = MoneyFilter(lookup_expr="lte", help_text="Highest price, e.g. 49.99.")
    in_stock = django_filters.BooleanFilter(method="filter_in_stock")
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=MAX_SEARCH_LENGTH,
        help_text="Words that must all appear in the name, description or sku (on "
        "MySQL/MariaDB as the start of a word), most relevant first unless `ordering` is given.",
    )
    ids = IdListFilter(help_text=f"Comma-separated product ids (at most {MAX_IDS}).")
    ordering = django_filters.ChoiceFilter(
        choices=PRODUCT_ORDERINGS,
        method="filter_ordering",
        empty_label=None,
        help_text="Sort order; ties are broken by id so pages are stable.",
    )

    class Meta:
        model = Product
        fields = []

    def filter_category(self, queryset, name, value):
        return queryset.filter(category_id__in=category_subtree_ids(slug=value))

    def filter_in_stock(self, queryset, name, value):
        return queryset.filter(stock__gt=0) if value else queryset.filter(stock=0)

    def filter_search(self, queryset, name, value):
        return search_products(queryset, value)

    def filter_ordering(self, queryset, name, value):
        return queryset.order_by(value, "id")


# The query parameters the FilterSet reads (a list with none of them is unfiltered).
PRODUCT_FILTER_PARAMETERS = frozenset(ProductFilter.base_filters)
# A list asked for these alone is a plain search: answered without the FilterSet
# (apis.ProductViewSet.list), whose form and filters, copied per request, cost
# about 40 % of a search's CPU.
PLAIN_SEARCH_PARAMETERS = frozenset(("search", "page", "page_size"))


def plain_search_value(query_params) -> str | None:
    """The `search` value of a list asked only for a search (and a page), when the
    FilterSet would accept it as given; None otherwise (the FilterSet then decides,
    with its own 400 for a bad value)."""
    if "search" not in query_params or not PLAIN_SEARCH_PARAMETERS.issuperset(query_params):
        return None
    # What the filter's forms.CharField makes of it: stripped, at most
    # MAX_SEARCH_LENGTH characters, no NUL; an empty value is no search at all.
    value = query_params.get("search", "").strip()
    if not value or len(value) > MAX_SEARCH_LENGTH or "\x00" in value:
        return None
    return value
