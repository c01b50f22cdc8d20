"""Input serializers whose fields each thread builds once (the hot writes' bodies)."""

import threading

from django.utils.functional import cached_property
from rest_framework import serializers


class FieldsBuiltOncePerThread:
    """A serializer whose fields each thread builds once, for every instance after.

    DRF deep-copies a serializer's declared fields for every instance, building each
    field (and each nested serializer's) again from its arguments: most of a small
    body's validation (a checkout's, a reservation's, an add-to-cart's). For input
    serializers that take no context and whose fields keep nothing of a request while
    validating, the same fields serve every instance within one thread (one request at
    a time). They are built for, and bound to, an instance without data, so no
    request's body stays reachable from them.

    Put it first in the bases of a `serializers.Serializer`; not for serializers that
    read `self.context` or `partial` from their fields' root, or that write.
    """

    _kept = threading.local()

    @cached_property
    def fields(self):
        kept = self._kept.__dict__
        fields = kept.get(type(self))
        if fields is None:
            fields = kept[type(self)] = serializers.Serializer.fields.func(type(self)())
        return fields
