"""Service-to-service API: /internal/auth/ (service credential only)."""

urlpatterns = []
