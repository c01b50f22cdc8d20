"""The public orders API (/api/v1/orders/): views parse input, call one service or selector."""

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response

from orders import metrics, selectors, services
from orders.errors import OrderErrorCode
from orders.models import Order
from orders.serializers import (
    CheckoutInlineAddressSerializer,
    CheckoutResultSerializer,
    CheckoutSavedAddressSerializer,
    CheckoutSerializer,
    GuestCheckoutSerializer,
    OrderCancelSerializer,
    OrderDetailSerializer,
    OrderListFilterSerializer,
    OrderSerializer,
    OrderStatsSerializer,
    OrderStatusChangeSerializer,
)
from shopkit.errors import PROBLEM_CONTENT_TYPE, ApplicationError
from shopkit.schema import problem_responses

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
CART_TOKEN_HEADER = "X-Cart-Token"  # a guest's cart (the cart service's header)
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,254}$")  # printable ASCII


IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_KEY_HEADER,
    {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": IDEMPOTENCY_KEY_PATTERN.pattern,
    },
    OpenApiParameter.HEADER,
    required=True,
    description="One key per checkout (1-255 printable ASCII characters, e.g. a UUID). "
    "Sending the same key and body again returns the same result.",
)


# A stored answer sent again for a repeated key: the 201 and the final refusals.
IDEMPOTENT_REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    {"type": "string", "enum": ["true"], "x-enum-varnames": ["TRUE"]},
    OpenApiParameter.HEADER,
    response=[201, 400, 409],
    description="`true` when this is the stored answer of an earlier request with the "
    "same Idempotency-Key and body (absent otherwise).",
)
CHECKOUT_RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[409],
    description="checkout_in_progress: seconds to wait before retrying with the same key.",
)


class CanChangeOrders(BasePermission):
    """Staff holding orders.change_order."""

    message = "Only staff with the order permission can change an order's status."

    def has_permission(self, request, view):
        return selectors.can_change_orders(request.user)


def _caller_id(request) -> int:
    try:
        return int(request.user.id)
    except (TypeError, ValueError):
        raise AuthenticationFailed("The token does not name a user.")


def _claim_guest_orders(request) -> None:
    """A customer whose token says the email is verified gets the guest orders placed
    with it (orders.services.guests): before every read of their own orders (list,
    one order, stats)."""
    if getattr(request.user, "email_verified", False):
        services.guest_orders_claim(user_id=_caller_id(request), email=request.user.email)


def _idempotency_key(request) -> str:
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if not key:
        raise ApplicationError(
            "The Idempotency-Key header is required for a checkout.",
            code=OrderErrorCode.IDEMPOTENCY_KEY_REQUIRED,
            status=400,
        )
    if not IDEMPOTENCY_KEY_PATTERN.match(key):
        raise ApplicationError(
            "The Idempotency-Key must be 1-255 printable ASCII characters.",
            code=OrderErrorCode.IDEMPOTENCY_KEY_INVALID,
            status=400,
        )
    return key


CART_TOKEN_PARAMETER = OpenApiParameter(
    CART_TOKEN_HEADER,
    {"type": "string", "minLength": 1, "maxLength": 128},
    OpenApiParameter.HEADER,
    required=False,
    description="A guest checkout (no Authorization): the guest cart's token, as the "
    "cart API answered it; the body then carries `email` and the address inline.",
)


class OrderViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]

    def get_permissions(self):
        if self.action == "create":  # a guest checks out without a token (X-Cart-Token)
            return [AllowAny()]
        return super().get_permissions()

    serializer_class = OrderSerializer
    queryset = Order.objects.none()  # reads go through the selectors
    lookup_value_regex = r"[0-9]{1,18}"
    filter_backends = []  # filters are parsed explicitly and applied by the selectors

    @extend_schema(
        summary="List orders",
        description="The caller's orders, newest first. Staff with orders.view_order see "
        "every order and may filter by user_id.",
        parameters=[OrderListFilterSerializer],
        responses={200: OrderSerializer(many=True), **problem_responses(400, 401, 404)},
    )
    def list(self, request):
        filters = OrderListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        _claim_guest_orders(request)
        orders = selectors.order_list(
            user=request.user,
            status=filters.validated_data.get("status"),
            customer_id=filters.validated_data.get("user_id"),
        )
        page = self.paginate_queryset(orders)
        return self.get_paginated_response(OrderSerializer(page, many=True).data)

    @extend_schema(
        operation_id="orders_checkout",
        summary="Check out the cart",
        description="Turns the caller's cart into an order: stock reserved in the catalog, "
        "prices from the catalog, cart cleared. Exactly once per Idempotency-Key: the same "
        "key and body return the stored response again (header Idempotent-Replayed: true); "
        "the same key with another body is 422; while another request holds the key, 409 "
        "checkout_in_progress (retry). 400 empty cart, 409 out_of_stock (short_lines), "
        "400 shipping_method_required (a method serves the destination), 409 "
        "shipping_method_unavailable (unknown, deactivated, or not for that country), "
        "503 when a service it needs is down (nothing held; the same key may be retried). "
        "403 email_not_verified when the shop requires a verified email (REQUIRE_VERIFIED_EMAIL) "
        "and the token says it is not. A guest checks out without a token: X-Cart-Token "
        "names the guest cart, the body has `email` and the address inline; the 201 carries "
        "`access_token` (once; also emailed) for /api/v1/orders/guest/{number}/. The key is "
        "scoped to the guest cart; the same stock, shipping and replay rules apply.",
        parameters=[
            IDEMPOTENCY_KEY_PARAMETER,
            CART_TOKEN_PARAMETER,
            IDEMPOTENT_REPLAYED,
            CHECKOUT_RETRY_AFTER,
        ],
        request=PolymorphicProxySerializer(
            component_name="Checkout",
            serializers=[
                CheckoutInlineAddressSerializer,
                CheckoutSavedAddressSerializer,
                GuestCheckoutSerializer,
            ],
            resource_type_field_name=None,
        ),
        responses={
            201: CheckoutResultSerializer,
            **problem_responses(400, 401, 403, 409, 422, 503),
        },
    )
    def create(self, request):
        if not request.user or not request.user.is_authenticated:
            return self._guest_checkout(request)
        key = _idempotency_key(request)
        checkout = CheckoutSerializer(data=request.data)
        checkout.is_valid(raise_exception=True)
        try:
            outcome = services.order_checkout(
                user_id=_caller_id(request),
                email=request.user.email,
                language=request.user.language,
                email_verified=request.user.email_verified,
                idempotency_key=key,
                shipping_address=checkout.validated_data.get("shipping_address"),
                address_id=checkout.validated_data.get("address_id"),
                notes=checkout.validated_data["notes"],
                shipping_method=checkout.validated_data.get("shipping_method"),
            )
        except ApplicationError as exc:
            metrics.count_checkout(status=exc.status, body={"code": exc.code})
            raise
        return self._checkout_response(outcome)

    def _guest_checkout(self, request):
        cart_token = request.headers.get(CART_TOKEN_HEADER, "")
        if not cart_token:  # neither a token nor a guest cart: the 401 comes first
            raise NotAuthenticated(
                "Sign in, or check out as a guest: send the X-Cart-Token of your cart "
                "and your email in the body."
            )
        key = _idempotency_key(request)
        if len(cart_token) > 128:
            raise ApplicationError(
                "The X-Cart-Token is not one the cart gave.", code="invalid", status=400
            )
        checkout = GuestCheckoutSerializer(data=request.data)
        checkout.is_valid(raise_exception=True)
        data = checkout.validated_data
        try:
            outcome = services.order_checkout(
                user_id=None,
                email=data["email"].lower(),
                language=data.get("language", ""),
                idempotency_key=key,
                shipping_address=data["shipping_address"],
                notes=data["notes"],
                shipping_method=data.get("shipping_method"),
                guest=services.GuestCheckout(cart_token=cart_token),
            )
        except ApplicationError as exc:
            metrics.count_checkout(status=exc.status, body={"code": exc.code})
            raise
        return self._checkout_response(outcome)

    @staticmethod
    def _checkout_response(outcome):
        metrics.count_checkout(status=outcome.status, body=outcome.body, replayed=outcome.replayed)
        return Response(
            outcome.body,
            status=outcome.status,
            content_type=PROBLEM_CONTENT_TYPE if outcome.status >= 400 else None,
            headers={"Idempotent-Replayed": "true"} if outcome.replayed else None,
        )

    @extend_schema(
        summary="One order, with lines and status history",
        responses={200: OrderDetailSerializer, **problem_responses(401, 404)},
    )
    def retrieve(self, request, pk=None):
        _claim_guest_orders(request)  # an order emailed to a guest, opened once verified
        order = selectors.order_get(user=request.user, order_id=int(pk))
        return Response(OrderDetailSerializer(order).data)

    @extend_schema(
        operation_id="orders_cancel",
        summary="Cancel an order (stock goes back)",
        description="The owner while pending or confirmed; staff (orders.change_order) also "
        "while processing. 409 otherwise, or when already cancelled.",
        request=OrderCancelSerializer,
        responses={200: OrderDetailSerializer, **problem_responses(400, 401, 403, 404, 409, 503)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        body = OrderCancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = selectors.order_get(user=request.user, order_id=int(pk))
        caller_id = _caller_id(request)
        by_staff = selectors.can_change_orders(request.user)
        if order.user_id != caller_id and not by_staff:
            self.permission_denied(request, message="Only the customer or staff can cancel.")
        order = services.order_cancel(
            order=order,
            by_user_id=caller_id,
            by_email=request.user.email,
            by_staff=by_staff,
            note=body.validated_data["note"],
        )
        return Response(OrderDetailSerializer(order).data)

    @extend_schema(
        operation_id="orders_change_status",
        summary="Move an order along the status machine (staff)",
        description="pending → confirmed → processing → shipped → delivered; "
        "pending|confirmed|processing → cancelled (stock goes back). Other moves: 409. "
        "Moving to shipped needs carrier and tracking_number (400 tracking_required); "
        "the customer sees them on the order.",
        request=OrderStatusChangeSerializer,
        responses={200: OrderDetailSerializer, **problem_responses(400, 401, 403, 404, 409, 503)},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="status",
        permission_classes=[IsAuthenticated, CanChangeOrders],
    )
    def change_status(self, request, pk=None):
        body = OrderStatusChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = selectors.order_get(user=request.user, order_id=int(pk))
        order = services.order_change_status(
            order=order,
            to_status=body.validated_data["status"],
            by_user_id=_caller_id(request),
            by_email=request.user.email,
            note=body.validated_data["note"],
            carrier=body.validated_data.get("carrier"),
            tracking_number=body.validated_data.get("tracking_number"),
        )
        return Response(OrderDetailSerializer(order).data)

    @extend_schema(
        operation_id="orders_stats",
        summary="Order count and total per status",
        description="The caller's own orders; every order for staff with orders.view_order.",
        responses={200: OrderStatsSerializer, **problem_responses(401)},
    )
    @action(detail=False, methods=["get"])
    def stats(self, request):
        _claim_guest_orders(request)
        return Response(OrderStatsSerializer(selectors.order_stats(user=request.user)).data)
