"""Public API: /api/v1/auth/"""

urlpatterns = []
