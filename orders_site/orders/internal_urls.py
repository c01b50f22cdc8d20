"""Service-to-service API: /internal/orders/ (service credential only)."""

urlpatterns = []
