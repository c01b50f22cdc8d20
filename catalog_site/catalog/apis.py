"""HTTP views: parse the input, call one service or selector, shape the output."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import (
    SAFE_METHODS,
    DjangoModelPermissions,
    DjangoModelPermissionsOrAnonReadOnly,
)
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.filters import (
    PRODUCT_FILTER_PARAMETERS,
    IdListField,
    ProductFilter,
    plain_search_value,
)
from catalog.selectors import (
    FilteredProductRows,
    SearchIdPages,
    category_list,
    category_rows_all,
    product_list,
    product_pages,
    product_raw_rows,
    products_by_ids,
    products_raw_rows_in_order,
    reservation_detail_rows,
    user_sees_inactive_products,
)
from catalog.serializers import (
    CategorySerializer,
    DestinationSerializer,
    ProductSerializer,
    ReservationInputSerializer,
    ReservationReferenceSerializer,
    StockAdjustmentSerializer,
    category_json,
    category_representation,
    internal_product_json,
    internal_product_representation,
    product_json,
    product_representation,
    reservation_representation,
    reservation_rows_representation,
)
from catalog.services import (
    category_create,
    category_delete,
    category_update,
    product_adjust_stock,
    product_create,
    product_update,
    products_set_active,
    reservation_commit,
    reservation_release,
    reservation_reserve,
)
from shopkit.conditional import with_etag, with_stale_while_revalidate
from shopkit.pagination import CachedCountPageNumberPagination, KeptPages
from shopkit.permissions import IsServiceCaller
from shopkit.rendering import accepts_plain_json, json_response
from shopkit.schema import problem_responses

# --- Public API: /api/v1/catalog/ -------------------------------------------------------


# The problem documents a staff write may answer with (shopkit.errors).
WRITE_PROBLEMS = problem_responses(400, 401, 403, 404)
# A product change with `expected_stock` that no longer holds: 409 stale_stock.
STALE_PROBLEM = problem_responses(409)

# Conditional reads of the product list and detail: the ETag of the answer, and a
# 304 without a body when the client's If-None-Match still matches it.
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The ETag of an earlier answer: 304 (no body) when it is still current.",
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 304],
    description="Identifies this answer; send it back as If-None-Match.",
)
NOT_MODIFIED = {
    304: OpenApiResponse(None, description="Not Modified: the If-None-Match ETag is current.")
}


class CatalogPermission(DjangoModelPermissionsOrAnonReadOnly):
    """Anyone reads; writes need the model permissions.

    What DjangoModelPermissionsOrAnonReadOnly decides, without building the
    view's queryset to learn the model on every read (a read needs no permission).
    """

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or super().has_permission(request, view)


@extend_schema_view(
    list=extend_schema(summary="List categories (anyone)"),
    retrieve=extend_schema(
        summary="One category (anyone)",
        responses={200: CategorySerializer, **problem_responses(404)},
    ),
    create=extend_schema(
        summary="Add a category (catalog staff)",
        responses={201: CategorySerializer, **problem_responses(400, 401, 403)},
    ),
    update=extend_schema(
        summary="Replace a category (catalog staff)",
        responses={200: CategorySerializer, **WRITE_PROBLEMS},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a category (catalog staff)",
        responses={200: CategorySerializer, **WRITE_PROBLEMS},
    ),
    destroy=extend_schema(
        summary="Delete an empty category (catalog staff)",
        description="409 category_in_use while it has subcategories or products.",
        responses={204: None, **problem_responses(401, 403, 404, 409)},
    ),
)
class CategoryViewSet(viewsets.ModelViewSet):
    """Categories: anyone reads; staff with the catalog permissions write."""

    serializer_class = CategorySerializer
    permission_classes = [CatalogPermission]
    filter_backends = []
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return category_list()

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Anonymous reads may be answered stale for a moment by the gateway's cache.
        if self.action in ("list", "retrieve"):
            return with_stale_while_revalidate(request, response)
        return response

    def list(self, request, *args, **kwargs):
        # The category table is small (selectors.category_subtree_ids reads it whole
        # too): one query for all of it and a page cut in memory cost less than a
        # COUNT(*) and a page query.
        rows = category_rows_all()
        page = self.paginate_queryset(rows)
        if not accepts_plain_json(request):
            return self.get_paginated_response(
                [category_representation(rows.as_dict(raw)) for raw in page]
            )
        return self.paginator.get_paginated_json_response(
            [category_json.from_raw(raw, rows) for raw in page]
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = category_create(**serializer.validated_data)
        return Response(self.get_serializer(category).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, partial=False, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        category = category_update(
            category_id=serializer.instance.pk, data=serializer.validated_data
        )
        return Response(self.get_serializer(category).data)

    def destroy(self, request, *args, **kwargs):
        category_delete(category_id=self.get_object().pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChangeProductPermission(DjangoModelPermissions):
    """A POST that changes an existing product (not one that adds a product)."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "POST": ["%(app_label)s.change_%(model_name)s"],
    }


@extend_schema_view(
    list=extend_schema(
        summary="List products (anyone; staff also see inactive ones)",
        parameters=[IF_NONE_MATCH, ETAG],
        responses={
            (200, "application/json"): ProductSerializer(many=True),
            **NOT_MODIFIED,
            **problem_responses(400, 401, 404),
        },
    ),
    retrieve=extend_schema(
        summary="One product (anyone; inactive ones for staff only)",
        parameters=[IF_NONE_MATCH, ETAG],
        responses={200: ProductSerializer, **NOT_MODIFIED, **problem_responses(401, 404)},
    ),
    update=extend_schema(
        summary="Replace a product (catalog staff)",
        responses={200: ProductSerializer, **WRITE_PROBLEMS, **STALE_PROBLEM},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a product (catalog staff)",
        responses={200: ProductSerializer, **WRITE_PROBLEMS, **STALE_PROBLEM},
    ),
)
class ProductViewSet(viewsets.ModelViewSet):
    """Products: anyone reads active ones; staff also see inactive ones and write.

    DELETE deactivates the product (orders keep product ids): it disappears from
    the storefront and can no longer be reserved, but its history stays.
    """

    serializer_class = ProductSerializer
    permission_classes = [CatalogPermission]
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter
    lookup_value_regex = r"\d+"
    # Browsing a big catalogue must not COUNT(*) every product on every page.
    pagination_class = CachedCountPageNumberPagination

    def get_queryset(self):
        return product_list(include_inactive=user_sees_inactive_products(self.request.user))

    # The reads shape `.values()` rows (serializers.product_representation, the same
    # JSON as ProductSerializer at a fraction of its cost) and answer with each
    # product's kept JSON text (serializers.product_json): nothing walks or encodes
    # the products again per request.
    def list(self, request, *args, **kwargs):
        include_inactive = user_sees_inactive_products(request.user)
        search = plain_search_value(request.query_params)
        # Rows stay the driver's tuples where the query is prepared: a kept product's
        # text is found by the tuple, and only a product not kept yet goes through
        # Django's converters (`source.as_dict`).
        if search is not None:
            # Only a search (and a page): the same ids and rows as below, without the
            # FilterSet, and kept under the search value itself (no QuerySet built or
            # compiled per request while they are kept).
            ids = self.paginate_queryset(
                SearchIdPages(search=search, include_inactive=include_inactive)
            )
            raw_rows = source = products_raw_rows_in_order(
                ids=ids, include_inactive=include_inactive
            )
        elif not self.is_filtered():
            # The plain storefront list: each page one prepared query (no QuerySet
            # built or compiled per request), its count kept.
            source = product_pages(include_inactive=include_inactive, raw=True)
            raw_rows = self.paginate_queryset(source)
        elif "search" not in request.query_params:
            page = self.paginate_queryset(
                FilteredProductRows(self.filter_queryset(self.get_queryset()))
            )
            if not accepts_plain_json(request):
                return self.get_paginated_response([product_representation(row) for row in page])
            return self.paginator.get_paginated_json_response([product_json(row) for row in page])
        else:
            # A search sorts its matches by relevance: sorting ids only (no description
            # text in the sort) and then reading the page's rows by id costs less. Which
            # ids match, in which order, is kept a few seconds (shopkit.pagination.
            # KeptPages): a FULLTEXT query costs MariaDB 5-80 ms at 100,000 products.
            # The rows are read fresh, so price, stock and deactivation show at once;
            # only which products match may lag, by PAGE_TTL_SECONDS.
            ids = self.paginate_queryset(
                KeptPages(self.filter_queryset(self.get_queryset()).values_list("id", flat=True))
            )
            raw_rows = source = products_raw_rows_in_order(
                ids=ids, include_inactive=include_inactive
            )
        if not accepts_plain_json(request):
            return self.get_paginated_response(
                [product_representation(source.as_dict(raw)) for raw in raw_rows]
            )
        return self.paginator.get_paginated_json_response(
            [product_json.from_raw(raw, source) for raw in raw_rows]
        )

    def retrieve(self, request, *args, **kwargs):
        rows = product_raw_rows(
            product_id=int(kwargs[self.lookup_field]),
            include_inactive=user_sees_inactive_products(request.user),
        )
        if not rows:
            raise Http404
        if not accepts_plain_json(request):
            return Response(product_representation(rows.as_dict(rows[0])))
        return json_response(product_json.from_raw(rows[0], rows))

    def is_filtered(self) -> bool:
        """A list asked for one of the FilterSet's parameters (filters, search, ordering)."""
        return not PRODUCT_FILTER_PARAMETERS.isdisjoint(self.request.query_params)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Conditional GETs of the list and of a product: ETag, 304 to If-None-Match;
        # anonymous ones may be answered stale for a moment by the gateway's cache.
        if self.action in ("list", "retrieve"):
            return with_etag(request, with_stale_while_revalidate(request, response))
        return response

    def filter_queryset(self, queryset):
        # Filters and ordering shape the list; a product is found by its id alone
        # (running the FilterSet on every detail read cost a third of its time),
        # and a list asked for no filter skips building the FilterSet's form.
        if self.action != "list" or not self.is_filtered():
            return queryset
        return super().filter_queryset(queryset)

    @extend_schema(
        summary="Add a product (catalog staff)",
        examples=[
            OpenApiExample(
                "A kettle",
                request_only=True,
                value={
                    "sku": "KET-001",
                    "name": "Steel kettle, 1.7 l",
                    "description": "Boils fast; switches off by itself.",
                    "price": "24.95",
                    "tax_rate": "0.21",
                    "stock": 12,
                    "weight": "1.150",
                },
            )
        ],
        responses={201: ProductSerializer, **problem_responses(400, 401, 403)},
    )
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = product_create(data=serializer.validated_data)
        return Response(self.get_serializer(product).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, partial=False, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        expected_stock = data.pop("expected_stock", None)
        product = product_update(
            product_id=serializer.instance.pk, data=data, expected_stock=expected_stock
        )
        return Response(self.get_serializer(product).data)

    @extend_schema(
        summary="Deactivate a product (catalog staff)",
        description="Deactivate the product (it is kept: orders refer to it).",
        responses={204: None, **problem_responses(401, 403, 404)},
    )
    def destroy(self, request, *args, **kwargs):
        products_set_active(product_ids=[self.get_object().pk], is_active=False)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Add or remove stock (catalog staff)",
        request=StockAdjustmentSerializer,
        responses={200: ProductSerializer, **problem_responses(400, 401, 403, 404, 409)},
        description="Add or remove units relative to the current stock (409 below zero).",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="stock-adjustment",
        permission_classes=[ChangeProductPermission],
        filter_backends=[],
    )
    def stock_adjustment(self, request, pk=None):
        serializer = StockAdjustmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = product_adjust_stock(
            product_id=self.get_object().pk, delta=serializer.validated_data["delta"]
        )
        return Response(self.get_serializer(product).data)


# --- Internal API: /internal/catalog/ (docs/internal-api.md) ----------------------------


class InternalApi(APIView):
    """Other Tienda services only: the service credential, never a user's token."""

    authentication_classes = []
    permission_classes = [IsServiceCaller]


# The internal lookup's `ids` (a form field keeps no state between calls).
_INTERNAL_IDS = IdListField(required=True)


class InternalProductListApi(InternalApi):
    def get(self, request):
        try:
            ids = _INTERNAL_IDS.clean(request.query_params.get("ids"))
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"ids": exc.messages})
        # Called for every cart read and cart write, mostly without a destination:
        # only a given country is validated (absent, the serializer's answer is None).
        country = request.query_params.get("country")
        if country is not None:
            destination = DestinationSerializer(data={"country": country})
            destination.is_valid(raise_exception=True)
            country = destination.validated_data["country"]
        rows = products_by_ids(ids=ids, country=country)
        if not accepts_plain_json(request):
            return Response({"results": [internal_product_representation(row) for row in rows]})
        # InternalProductSerializer's JSON, joined from each row's kept text.
        return json_response(b'{"results":[' + b",".join(map(internal_product_json, rows)) + b"]}")


class ReservationCreateApi(InternalApi):
    def post(self, request):
        serializer = ReservationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reservation, created = reservation_reserve(**serializer.validated_data)
        # Shaped directly (ReservationSerializer's JSON): every checkout reserves and commits.
        return Response(
            reservation_representation(reservation),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ReservationDetailApi(InternalApi):
    def get(self, request, reference):
        rows = reservation_detail_rows(reference=reference)
        return Response(reservation_rows_representation(rows))


class ReservationCommitApi(InternalApi):
    def post(self, request, reference):
        rows = reservation_commit(reference=reference)
        return Response(reservation_rows_representation(rows))


class ReservationReleaseApi(InternalApi):
    def post(self, request, reference):
        # An unknown reference is stored (as a tombstone), so it must be a valid one.
        ReservationReferenceSerializer(data={"reference": reference}).is_valid(raise_exception=True)
        return Response(reservation_representation(reservation_release(reference=reference)))
