"""Service-to-service API: /internal/auth/ (service credential only)."""

from django.urls import path

from accounts import apis

urlpatterns = [
    path("revocations/", apis.InternalRevocationListApi.as_view(), name="internal-revocations"),
    path(
        "users/<int:user_id>/addresses/<int:address_id>/",
        apis.InternalAddressApi.as_view(),
        name="internal-user-address",
    ),
]
