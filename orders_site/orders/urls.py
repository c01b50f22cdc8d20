"""Public API: /api/v1/orders/"""

from django.conf import settings
from django.urls import path, re_path
from django.utils.module_loading import import_string
from rest_framework.routers import SimpleRouter

from orders.apis import OrderViewSet
from orders.guest_apis import GuestOrderApi, GuestOrderCancelApi, GuestOrderPaymentsApi
from orders.payment_apis import (
    PaymentListCreateView,
    PaymentReceivedView,
    PaymentRefundView,
    webhook_view,
)
from orders.shipping_apis import ShippingMethodViewSet, ShippingQuoteApi, ShippingZoneViewSet

shipping = SimpleRouter()
shipping.register("shipping/zones", ShippingZoneViewSet, basename="shipping-zone")
shipping.register("shipping/methods", ShippingMethodViewSet, basename="shipping-method")

router = SimpleRouter()
router.register("", OrderViewSet, basename="order")

ID = r"[0-9]{1,18}"
# One webhook path per configured provider that takes webhooks (stripe: .../webhooks/stripe/).
webhook_urlpatterns = [
    re_path(rf"^payments/webhooks/{name}/$", webhook_view(name), name=f"payment-webhook-{name}")
    for name, entry in settings.PAYMENT_PROVIDERS.items()
    if import_string(entry["CLASS"]).takes_webhooks
]
payment_urlpatterns = [
    re_path(
        rf"^(?P<order_id>{ID})/payments/$", PaymentListCreateView.as_view(), name="order-payments"
    ),
    re_path(
        rf"^(?P<order_id>{ID})/payments/(?P<payment_id>{ID})/received/$",
        PaymentReceivedView.as_view(),
        name="order-payment-received",
    ),
    re_path(
        rf"^(?P<order_id>{ID})/payments/(?P<payment_id>{ID})/refunds/$",
        PaymentRefundView.as_view(),
        name="order-payment-refunds",
    ),
]

NUMBER = r"T-[0-9A-HJKMNP-TV-Z]{10}"
guest_urlpatterns = [
    re_path(rf"^guest/(?P<number>{NUMBER})/$", GuestOrderApi.as_view(), name="guest-order"),
    re_path(
        rf"^guest/(?P<number>{NUMBER})/cancel/$",
        GuestOrderCancelApi.as_view(),
        name="guest-order-cancel",
    ),
    re_path(
        rf"^guest/(?P<number>{NUMBER})/payments/$",
        GuestOrderPaymentsApi.as_view(),
        name="guest-order-payments",
    ),
]

urlpatterns = [
    path("shipping-methods/", ShippingQuoteApi.as_view(), name="shipping-quote"),
    *guest_urlpatterns,
    *shipping.urls,
    *webhook_urlpatterns,
    *payment_urlpatterns,
    *router.urls,
]
