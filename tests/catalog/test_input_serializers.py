"""The reservation's input serializers build their fields once per thread
(shopkit.serializers.FieldsBuiltOncePerThread): every reserve, commit and release
validates a body or a reference, and DRF would build those fields again each time."""

from catalog.serializers import ReservationInputSerializer, ReservationReferenceSerializer

BODY = {"reference": "order-1", "lines": [{"product_id": 3, "quantity": 2}]}


def test_reserve_bodies_share_fields_and_keep_their_own_results():
    bad = ReservationInputSerializer(data={**BODY, "lines": [{"product_id": 0, "quantity": 2}]})
    good = ReservationInputSerializer(data={**BODY, "ttl_seconds": 60})

    assert good.fields is bad.fields
    assert not bad.is_valid()
    assert "product_id" in bad.errors["lines"][0]
    assert good.is_valid(), good.errors
    assert good.validated_data == {
        "reference": "order-1",
        "lines": [{"product_id": 3, "quantity": 2}],
        "ttl_seconds": 60,
        "country": None,
    }


def test_a_reference_alone_has_fields_of_its_own():
    reference = ReservationReferenceSerializer(data={"reference": "has space"})

    assert reference.fields is not ReservationInputSerializer().fields
    assert not reference.is_valid()
    assert ReservationReferenceSerializer(data={"reference": "order-1"}).is_valid()
