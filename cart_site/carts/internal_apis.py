"""Service-to-service API: /internal/cart/ (docs/internal-api.md, "Cart internal API")."""

from rest_framework.response import Response
from rest_framework.views import APIView

from carts.errors import CartErrorCode
from carts.selectors import CheckoutLine, cart_for_checkout, guest_cart_lines
from carts.serializers import (
    ClearInputSerializer,
    GuestCartLookupSerializer,
    GuestClearInputSerializer,
    checkout_cart_representation,
    clear_outcome_representation,
)
from carts.services import cart_clear_after_checkout, guest_cart_clear_after_checkout
from shopkit.errors import ApplicationError
from shopkit.permissions import IsServiceCaller


class InternalApi(APIView):
    authentication_classes = []
    permission_classes = [IsServiceCaller]


class UserCartApi(InternalApi):
    def get(self, request, user_id):
        # Shaped directly (CheckoutCartSerializer's JSON): every checkout reads the cart.
        return Response(checkout_cart_representation(cart_for_checkout(user_id=user_id)))


class UserCartClearApi(InternalApi):
    def post(self, request, user_id):
        data = ClearInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = cart_clear_after_checkout(
            user_id=user_id,
            reference=data.validated_data["reference"],
            version=data.validated_data["version"],
            lines=[CheckoutLine(**line) for line in data.validated_data["lines"]],
        )
        return Response(clear_outcome_representation(outcome))


class GuestCartLookupApi(InternalApi):
    """A guest's cart lines by token (orders' shipping quote). POST: the token stays out of URLs."""

    def post(self, request):
        data = GuestCartLookupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart = guest_cart_lines(cart_token=data.validated_data["cart_token"])
        if cart is None:
            raise ApplicationError(
                "No guest cart has this token.", code=CartErrorCode.CART_NOT_FOUND, status=404
            )
        return Response(checkout_cart_representation(cart))


class GuestCartClearApi(InternalApi):
    """A guest order's lines out of its guest cart (the cart named by its token's hash)."""

    def post(self, request):
        data = GuestClearInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = guest_cart_clear_after_checkout(
            cart_token_hash=data.validated_data["cart_token_hash"],
            reference=data.validated_data["reference"],
            version=data.validated_data["version"],
            lines=[CheckoutLine(**line) for line in data.validated_data["lines"]],
        )
        return Response(clear_outcome_representation(outcome))
