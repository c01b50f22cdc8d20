"""Public API: /api/v1/orders/"""

from django.urls import path
from rest_framework.routers import SimpleRouter

from orders.apis import OrderViewSet
from orders.shipping_apis import ShippingMethodViewSet, ShippingQuoteApi, ShippingZoneViewSet

shipping = SimpleRouter()
shipping.register("shipping/zones", ShippingZoneViewSet, basename="shipping-zone")
shipping.register("shipping/methods", ShippingMethodViewSet, basename="shipping-method")

router = SimpleRouter()
router.register("", OrderViewSet, basename="order")

urlpatterns = [
    path("shipping-methods/", ShippingQuoteApi.as_view(), name="shipping-quote"),
    *shipping.urls,
    *router.urls,
]
