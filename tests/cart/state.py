"""What the cart tables hold: tests compare it before and after a refused request."""

from carts.models import AppliedClear, Cart, CartLine


def carts_snapshot() -> dict:
    """Every cart, line and applied clear, as plain values."""
    return {
        "carts": list(
            Cart.objects.order_by("pk").values_list(
                "pk", "user_id", "guest_token_hash", "version", "updated_at"
            )
        ),
        "lines": list(
            CartLine.objects.order_by("pk").values_list("pk", "cart_id", "product_id", "quantity")
        ),
        "clears": list(AppliedClear.objects.order_by("pk").values_list("cart_id", "reference")),
    }


def quantities(cart: Cart) -> dict[int, int]:
    """{product_id: quantity} of a cart's lines."""
    return dict(CartLine.objects.filter(cart=cart).values_list("product_id", "quantity"))


def user_quantities(user_id: int) -> dict[int, int]:
    return dict(
        CartLine.objects.filter(cart__user_id=user_id).values_list("product_id", "quantity")
    )
