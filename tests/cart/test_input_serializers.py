"""The cart's hot input serializers build their fields once per thread
(shopkit.serializers.FieldsBuiltOncePerThread): every add-to-cart and every
checkout's clear validates a body, and DRF would build those fields again each time."""

from carts.serializers import (
    ClearInputSerializer,
    GuestClearInputSerializer,
    LineAddInputSerializer,
    LineQuantityInputSerializer,
)


def test_add_bodies_share_fields_and_keep_their_own_results():
    bad = LineAddInputSerializer(data={"product_id": 5, "quantity": "2"})
    good = LineAddInputSerializer(data={"product_id": 5, "quantity": 2})

    assert good.fields is bad.fields
    assert not bad.is_valid()  # JSON integers only
    assert "quantity" in bad.errors
    assert good.is_valid(), good.errors
    assert good.validated_data == {"product_id": 5, "quantity": 2}


def test_a_quantity_change_is_never_partial():
    serializer = LineQuantityInputSerializer(data={}, partial=True)

    assert not serializer.is_valid()
    assert "quantity" in serializer.errors


def test_clear_bodies_of_customers_and_guests_have_their_own_fields():
    body = {"reference": "order-9", "version": 3, "lines": [{"product_id": 4, "quantity": 1}]}
    customer = ClearInputSerializer(data=body)
    guest = GuestClearInputSerializer(data={**body, "cart_token_hash": "0" * 64})

    assert customer.fields is not guest.fields
    assert customer.is_valid(), customer.errors
    assert guest.is_valid(), guest.errors
    assert "cart_token_hash" not in customer.validated_data
    assert guest.validated_data["cart_token_hash"] == "0" * 64
    assert not GuestClearInputSerializer(data=body).is_valid()
