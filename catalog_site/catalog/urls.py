"""Public API: /api/v1/catalog/"""

from rest_framework.routers import SimpleRouter

from catalog.apis import CategoryViewSet, ProductViewSet

router = SimpleRouter()
router.register("categories", CategoryViewSet, basename="category")
router.register("products", ProductViewSet, basename="product")

urlpatterns = router.urls
