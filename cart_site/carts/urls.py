"""Public API: /api/v1/cart/"""

urlpatterns = []
