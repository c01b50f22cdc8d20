"""Public API: /api/v1/cart/"""

from django.urls import path

from carts.apis import CartApi, CartItemApi, CartItemsApi, CartMergeApi

urlpatterns = [
    path("", CartApi.as_view(), name="cart"),
    path("items/", CartItemsApi.as_view(), name="cart-items"),
    path("items/<int:line_id>/", CartItemApi.as_view(), name="cart-item"),
    path("merge/", CartMergeApi.as_view(), name="cart-merge"),
]
