from shopkit.urls import handler400, handler403, handler404, handler500, service_urlpatterns  # noqa: F401

urlpatterns = service_urlpatterns("auth", api="accounts.urls", internal="accounts.internal_urls")
