import factory
from factory.django import DjangoModelFactory

from carts.models import Cart, CartLine
from carts.owners import hash_guest_token, new_guest_token


class CartFactory(DjangoModelFactory):
    """A signed-in customer's cart."""

    class Meta:
        model = Cart
        database = "ecommerce"

    user_id = factory.Sequence(lambda n: 10_000 + n)
    version = 1


class GuestCartFactory(CartFactory):
    """A guest's cart; pass `token=` to know it (only its hash is stored)."""

    class Params:
        token = factory.LazyFunction(new_guest_token)

    user_id = None
    guest_token_hash = factory.LazyAttribute(lambda cart: hash_guest_token(cart.token))


class CartLineFactory(DjangoModelFactory):
    class Meta:
        model = CartLine
        database = "ecommerce"

    cart = factory.SubFactory(CartFactory)
    product_id = factory.Sequence(lambda n: 1 + n)
    quantity = 1
