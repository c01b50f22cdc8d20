from django.urls import include, path
from rest_framework import routers, serializers, viewsets

from drf_site.models import Product


class ProductSerializer(serializers.ModelSerializer):
    in_stock = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = [
            "id", "sku", "slug", "name", "description", "category_id", "price", "tax_rate",
            "stock", "in_stock", "is_active", "image_url", "weight", "created_at", "updated_at",
        ]  # fmt: skip

    def get_in_stock(self, product):
        return product.stock > 0


class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Product.objects.filter(is_active=True).order_by("name", "id")
    serializer_class = ProductSerializer


router = routers.DefaultRouter()
router.register("products", ProductViewSet)

urlpatterns = [path("drf/", include(router.urls))]
