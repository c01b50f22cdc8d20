"""Public API: /api/v1/catalog/"""

urlpatterns = []
