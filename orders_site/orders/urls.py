"""Public API: /api/v1/orders/"""

from rest_framework.routers import SimpleRouter

from orders.apis import OrderViewSet

router = SimpleRouter()
router.register("", OrderViewSet, basename="order")

urlpatterns = router.urls
