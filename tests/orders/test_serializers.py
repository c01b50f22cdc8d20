"""The checkout serializers build their fields once per thread (shopkit.serializers,
whose tests cover threads and classes): the checkout's answers as with fresh fields,
nothing of one request kept for the next."""

from orders.serializers import CheckoutSerializer

ADDRESS = {
    "full_name": "Ana Test",
    "line1": "Calle Mayor 1",
    "city": "Madrid",
    "postal_code": "28001",
    "country": "ES",
}


def test_one_threads_instances_share_fields_and_keep_their_own_results():
    first = CheckoutSerializer(data={"shipping_address": ADDRESS, "notes": "first"})
    assert first.is_valid(), first.errors
    second = CheckoutSerializer(data={"shipping_address": {**ADDRESS, "country": "XX"}})
    assert not second.is_valid()

    assert second.fields is first.fields  # built once
    assert "country" in second.errors["shipping_address"]
    assert first.validated_data["notes"] == "first"
    assert first.validated_data["shipping_address"]["country"] == "ES"
    third = CheckoutSerializer(data={"address_id": 7})
    assert third.is_valid(), third.errors
    assert third.validated_data == {"address_id": 7, "notes": ""}


def test_the_kept_fields_hold_no_request_data():
    CheckoutSerializer(data={"shipping_address": ADDRESS, "notes": "private"}).is_valid()
    root = CheckoutSerializer(data={}).fields["shipping_address"].root
    assert not hasattr(root, "initial_data")
