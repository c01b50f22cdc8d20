"""Service-to-service API: /internal/catalog/ (service credential only)."""

urlpatterns = []
