"""shopkit.serializers.FieldsBuiltOncePerThread: fields built once per thread and class,
the same answers as fresh fields, and nothing of one request kept for the next."""

import threading

from rest_framework import serializers

from shopkit.serializers import FieldsBuiltOncePerThread


class LineInput(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=10)


class BodyInput(FieldsBuiltOncePerThread, serializers.Serializer):
    reference = serializers.CharField(max_length=8)
    lines = LineInput(many=True, allow_empty=False)


class OtherBodyInput(BodyInput):
    note = serializers.CharField(required=False, default="")


class PlainBodyInput(serializers.Serializer):
    reference = serializers.CharField(max_length=8)
    lines = LineInput(many=True, allow_empty=False)


BODIES = [
    {"reference": "r-1", "lines": [{"product_id": 1, "quantity": 2}]},
    {"reference": "far-too-long", "lines": [{"product_id": 0, "quantity": 11}]},
    {"reference": "r-2", "lines": []},
    {"reference": "r-3", "lines": [{"product_id": 5, "quantity": 1}, {"product_id": "x"}]},
    {"lines": "not a list"},
    {
        "reference": "r-4",
        "lines": [{"product_id": 7, "quantity": 3}, {"product_id": 8, "quantity": 1}],
    },
]


def outcome(serializer):
    valid = serializer.is_valid()
    return valid, serializer.validated_data if valid else serializer.errors


def test_answers_and_errors_are_those_of_fresh_fields_body_after_body():
    # The same instance-by-instance results as DRF's own per-instance fields, with
    # valid and invalid bodies interleaved (errors of one never reach the next).
    for body in BODIES:
        assert outcome(BodyInput(data=body)) == outcome(PlainBodyInput(data=body))


def test_one_threads_instances_share_the_fields():
    first, second = BodyInput(data=BODIES[0]), BodyInput(data=BODIES[5])

    assert first.fields is second.fields
    assert first.is_valid() and second.is_valid()
    assert first.validated_data["reference"] == "r-1"
    assert [line["product_id"] for line in second.validated_data["lines"]] == [7, 8]


def test_the_kept_fields_hold_no_request_data():
    BodyInput(data={**BODIES[0], "reference": "secret"}).is_valid()

    root = BodyInput(data={}).fields["lines"].root
    assert not hasattr(root, "initial_data")
    assert not hasattr(root.fields["lines"].child, "initial_data")


def test_each_thread_and_each_serializer_class_builds_its_own():
    fields = BodyInput().fields
    assert OtherBodyInput().fields is not fields
    assert "note" in OtherBodyInput().fields and "note" not in fields
    other = []
    thread = threading.Thread(target=lambda: other.append(BodyInput().fields))
    thread.start()
    thread.join()
    assert other[0] is not fields
