"""Service-to-service API: /internal/cart/ (service credential only)."""

urlpatterns = []
