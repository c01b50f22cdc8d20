"""Public API: /api/v1/cart/ (the caller's own cart).

The caller is a signed-in customer (JWT) or a guest (X-Cart-Token header, or
nothing yet). Every endpoint answers with the whole cart, priced by the catalog.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from carts.errors import CartErrorCode
from carts.owners import GUEST_TOKEN_HEADER, CartOwner
from carts.pricing import PricedCart
from carts.selectors import cart_detail
from carts.serializers import (
    CartReadQuerySerializer,
    CartSerializer,
    LineAddInputSerializer,
    LineQuantityInputSerializer,
    MergeResultSerializer,
    cart_representation,
)
from carts.services import (
    cart_add_line,
    cart_clear,
    cart_merge_guest,
    cart_remove_line,
    cart_set_line_quantity,
)
from shopkit.errors import ApplicationError
from shopkit.schema import problem_responses

GUEST_TOKEN_PARAMETER = OpenApiParameter(
    GUEST_TOKEN_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="A guest's cart token (ignored for signed-in customers).",
)
GUEST_TOKEN_RESPONSE_HEADER = OpenApiParameter(
    GUEST_TOKEN_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description="Guests: the token of their cart (new when this request created it).",
)


def _caller(request) -> CartOwner:
    if request.user.is_authenticated:
        return CartOwner(user_id=request.user.id)
    return CartOwner(guest_token=request.headers.get(GUEST_TOKEN_HEADER) or None)


def _destination(request) -> str | None:
    """The cart read's `?country=`, validated; None without one (no serializer to run)."""
    if "country" not in request.query_params:
        return None
    # A plain dict: `?country=` (empty) is refused, not read as "no country".
    query = CartReadQuerySerializer(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    return query.validated_data["country"]


def _cart_response(cart: PricedCart, *, status: int = 200) -> Response:
    headers = {GUEST_TOKEN_HEADER: cart.cart_token} if cart.cart_token else None
    return Response(cart_representation(cart), status=status, headers=headers)


class CartApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["cart"],
        operation_id="cart_read",
        summary="The caller's cart",
        description="Every line priced by the catalog in one call. No cart yet: an empty "
        "cart. With `country` (the destination), tax is that country's when the shop "
        "charges tax by destination: the figures its checkout and shipping quote use. "
        "503 when the catalog is unavailable.",
        parameters=[CartReadQuerySerializer, GUEST_TOKEN_PARAMETER, GUEST_TOKEN_RESPONSE_HEADER],
        responses={200: CartSerializer, **problem_responses(400, 401, 503)},
    )
    def get(self, request):
        return _cart_response(cart_detail(owner=_caller(request), country=_destination(request)))

    @extend_schema(
        tags=["cart"],
        operation_id="cart_clear",
        summary="Remove every line",
        parameters=[GUEST_TOKEN_PARAMETER, GUEST_TOKEN_RESPONSE_HEADER],
        responses={200: CartSerializer, **problem_responses(401)},
    )
    def delete(self, request):
        return _cart_response(cart_clear(owner=_caller(request)))


class CartItemsApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["cart"],
        operation_id="cart_item_add",
        summary="Add a product (or more of it)",
        description="Merges into the product's existing line (200) or adds a line (201). A "
        "guest without a known token gets a new guest cart and its token.",
        parameters=[GUEST_TOKEN_PARAMETER, GUEST_TOKEN_RESPONSE_HEADER],
        request=LineAddInputSerializer,
        responses={
            200: CartSerializer,
            201: CartSerializer,
            **problem_responses(400, 401, 409, 503),
        },
    )
    def post(self, request):
        data = LineAddInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = cart_add_line(owner=_caller(request), **data.validated_data)
        return _cart_response(result.cart, status=201 if result.created else 200)


class CartItemApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["cart"],
        operation_id="cart_item_set_quantity",
        summary="Set a line's quantity",
        parameters=[GUEST_TOKEN_PARAMETER, GUEST_TOKEN_RESPONSE_HEADER],
        request=LineQuantityInputSerializer,
        responses={200: CartSerializer, **problem_responses(400, 401, 404, 409, 503)},
    )
    def patch(self, request, line_id):
        data = LineQuantityInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart = cart_set_line_quantity(
            owner=_caller(request), line_id=line_id, **data.validated_data
        )
        return _cart_response(cart)

    @extend_schema(
        tags=["cart"],
        operation_id="cart_item_remove",
        summary="Remove a line",
        parameters=[GUEST_TOKEN_PARAMETER, GUEST_TOKEN_RESPONSE_HEADER],
        responses={200: CartSerializer, **problem_responses(401, 404, 503)},
    )
    def delete(self, request, line_id):
        return _cart_response(cart_remove_line(owner=_caller(request), line_id=line_id))


class CartMergeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["cart"],
        operation_id="cart_merge",
        summary="Merge a guest cart into the signed-in customer's cart",
        description="Quantities are summed, capped at the stock and the per-line maximum; "
        "what did not fit is listed in `adjustments`. The guest cart is deleted; merging "
        "again (unknown token) changes nothing and answers `merged: false`.",
        parameters=[
            OpenApiParameter(
                GUEST_TOKEN_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="The guest cart's token.",
            )
        ],
        request=None,
        responses={200: MergeResultSerializer, **problem_responses(400, 401, 409, 503)},
    )
    def post(self, request):
        guest_token = request.headers.get(GUEST_TOKEN_HEADER)
        if not guest_token:
            raise ApplicationError(
                f"Send the guest cart's token in the {GUEST_TOKEN_HEADER} header.",
                code=CartErrorCode.CART_TOKEN_REQUIRED,
            )
        result = cart_merge_guest(user_id=request.user.id, guest_token=guest_token)
        return Response(MergeResultSerializer(result).data)
