"""Shipping endpoints of /api/v1/orders/: the quote (anyone) and staff's zones and methods."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.permissions import AllowAny, DjangoModelPermissions
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.models import ShippingMethod, ShippingZone
from orders.services.shipping import ShippingQuote, shipping_method_save, shipping_quote
from orders.shipping import NO_WEIGHT_NOTE, method_lowest_price
from orders.shipping_serializers import (
    ShippingMethodSerializer,
    ShippingOptionSerializer,
    ShippingQuoteQuerySerializer,
    ShippingZoneSerializer,
    shipping_rules,
)
from shopkit.schema import problem_responses

CART_TOKEN_HEADER = "X-Cart-Token"


def _options(quote: ShippingQuote) -> list[dict]:
    """The quote's answer: priced for the cart (cheapest first), or the rules alone."""

    def option(method, charge=None):
        weightless = (
            quote.cart is not None and quote.cart.weight_incomplete and method.rate_kind == "weight"
        )
        return {
            "code": method.code,
            "name": method.name,
            "carrier": method.carrier,
            "price": None if charge is None else charge.price,
            "tax": None if charge is None else charge.tax,
            "total": None if charge is None else charge.total,
            "tax_rate": None if charge is None else charge.tax_rate,
            "estimated_days_min": method.estimated_days_min,
            "estimated_days_max": method.estimated_days_max,
            "note": NO_WEIGHT_NOTE if weightless else "",
            "rules": shipping_rules(method),
        }

    if quote.cart is not None:
        return [option(charge.method, charge) for charge in quote.charges]
    methods = sorted(quote.methods, key=lambda method: (method_lowest_price(method), method.code))
    return [option(method) for method in methods]


class ShippingQuoteApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["shipping"],
        operation_id="orders_shipping_methods",
        summary="Shipping methods for a destination",
        description="The active methods serving `country`, cheapest first. With the "
        "caller's cart (signed in, or a guest's X-Cart-Token) each is priced for it: net "
        "price, tax and total, with the same tax rates as the cart and the checkout for "
        "that country; methods that cannot carry the cart (too heavy) are left out. "
        "Without a cart: price, tax and total are null and `rules` says how each is "
        "priced. A country no zone covers: []. Not a country code: 400.",
        parameters=[
            ShippingQuoteQuerySerializer,
            OpenApiParameter(
                CART_TOKEN_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="A guest's cart token (ignored for signed-in customers).",
            ),
        ],
        responses={200: ShippingOptionSerializer(many=True), **problem_responses(400, 401, 503)},
    )
    def get(self, request):
        query = ShippingQuoteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        signed_in = request.user.is_authenticated
        quote = shipping_quote(
            country=query.validated_data["country"],
            user_id=int(request.user.id) if signed_in else None,
            cart_token=None if signed_in else request.headers.get(CART_TOKEN_HEADER),
        )
        return Response(ShippingOptionSerializer(_options(quote), many=True).data)


class StaffModelPermissions(DjangoModelPermissions):
    """Order managers' permissions: reads need view_, writes add_/change_/delete_."""

    perms_map = {**DjangoModelPermissions.perms_map, "GET": ["%(app_label)s.view_%(model_name)s"]}


@extend_schema_view(
    list=extend_schema(summary="Shipping zones (staff)", tags=["shipping"]),
    retrieve=extend_schema(summary="One shipping zone (staff)", tags=["shipping"]),
    create=extend_schema(summary="Add a shipping zone (staff)", tags=["shipping"]),
    update=extend_schema(summary="Change a shipping zone (staff)", tags=["shipping"]),
    partial_update=extend_schema(summary="Change a shipping zone (staff)", tags=["shipping"]),
    destroy=extend_schema(summary="Delete a shipping zone (staff)", tags=["shipping"]),
)
class ShippingZoneViewSet(viewsets.ModelViewSet):
    permission_classes = [StaffModelPermissions]
    serializer_class = ShippingZoneSerializer
    queryset = ShippingZone.objects.order_by("name")
    filter_backends = []

    def perform_create(self, serializer):
        zone = ShippingZone(**serializer.validated_data)
        zone.full_clean()
        zone.save()
        serializer.instance = zone

    def perform_update(self, serializer):
        zone = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(zone, name, value)
        zone.full_clean()
        zone.save()


@extend_schema_view(
    list=extend_schema(summary="Shipping methods, active or not (staff)", tags=["shipping"]),
    retrieve=extend_schema(summary="One shipping method (staff)", tags=["shipping"]),
    create=extend_schema(summary="Add a shipping method (staff)", tags=["shipping"]),
    update=extend_schema(summary="Change a shipping method (staff)", tags=["shipping"]),
    partial_update=extend_schema(summary="Change a shipping method (staff)", tags=["shipping"]),
    destroy=extend_schema(
        summary="Delete a shipping method (staff)",
        description="Orders keep the method as charged; deactivating (is_active false) "
        "is the usual way to stop offering one.",
        tags=["shipping"],
    ),
)
class ShippingMethodViewSet(viewsets.ModelViewSet):
    permission_classes = [StaffModelPermissions]
    serializer_class = ShippingMethodSerializer
    queryset = ShippingMethod.objects.order_by("code").prefetch_related("zones", "tiers")
    filter_backends = []

    def _save(self, serializer, method):
        data = dict(serializer.validated_data)
        zones = data.pop("zones", None)
        tiers = data.pop("tiers", None)
        for name, value in data.items():
            setattr(method, name, value)
        serializer.instance = shipping_method_save(
            method=method,
            zone_ids=None if zones is None else [zone.pk for zone in zones],
            tiers=tiers,
        )

    def perform_create(self, serializer):
        self._save(serializer, ShippingMethod())

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)
