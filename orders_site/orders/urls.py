"""Public API: /api/v1/orders/"""

urlpatterns = []
