"""Service-to-service API: /internal/cart/ (service credential only)."""

from django.urls import path

from carts.internal_apis import (
    GuestCartClearApi,
    GuestCartLookupApi,
    UserCartApi,
    UserCartClearApi,
)

urlpatterns = [
    path("users/<int:user_id>/", UserCartApi.as_view(), name="internal-user-cart"),
    path("users/<int:user_id>/clear/", UserCartClearApi.as_view(), name="internal-user-cart-clear"),
    path("guests/lookup/", GuestCartLookupApi.as_view(), name="internal-guest-cart-lookup"),
    path("guests/clear/", GuestCartClearApi.as_view(), name="internal-guest-cart-clear"),
]
