"""The catalog skeleton plus probe views that exercise shopkit's mechanisms."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from shopkit.errors import ApplicationError
from shopkit.permissions import IsServiceCaller
from shopkit.urls import handler400, handler404, handler500, service_urlpatterns  # noqa: F401


class WhoAmI(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        user = request.user
        return Response(
            {
                "user_id": user.id,
                "email": user.email,
                "is_staff": user.is_staff,
                "can_change_product": user.has_perm("catalog.change_product"),
            }
        )


class QuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1)


class Failures(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def post(self, request, kind):
        if kind == "validation":
            QuantitySerializer(data=request.data).is_valid(raise_exception=True)
        if kind == "application":
            raise ApplicationError(
                "Only 2 left.", code="out_of_stock", status=409, extra={"short_lines": [1]}
            )
        if kind == "django-validation":
            raise DjangoValidationError({"price": ["Must be positive."]})
        if kind == "crash":
            raise RuntimeError("boom")
        return Response({"ok": True})


class Internal(APIView):
    authentication_classes = []
    permission_classes = [IsServiceCaller]

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        if request.data.get("crash"):
            raise RuntimeError("boom")
        return Response({"echo": request.data}, status=201)


urlpatterns = [
    *service_urlpatterns("catalog"),
    path("probe/whoami/", WhoAmI.as_view()),
    path("probe/fail/<str:kind>/", Failures.as_view()),
    path("internal/probe/", Internal.as_view()),
]
