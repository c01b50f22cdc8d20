"""Service-to-service API: /internal/catalog/ (service credential only; docs/internal-api.md)."""

from django.urls import path

from catalog.apis import (
    InternalProductListApi,
    ReservationCommitApi,
    ReservationCreateApi,
    ReservationDetailApi,
    ReservationReleaseApi,
)

urlpatterns = [
    path("products/", InternalProductListApi.as_view(), name="internal-product-list"),
    path("reservations/", ReservationCreateApi.as_view(), name="internal-reservation-create"),
    path(
        "reservations/<str:reference>/",
        ReservationDetailApi.as_view(),
        name="internal-reservation-detail",
    ),
    path(
        "reservations/<str:reference>/commit/",
        ReservationCommitApi.as_view(),
        name="internal-reservation-commit",
    ),
    path(
        "reservations/<str:reference>/release/",
        ReservationReleaseApi.as_view(),
        name="internal-reservation-release",
    ),
]
