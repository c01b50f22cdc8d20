from shopkit.urls import handler400, handler403, handler404, handler500, service_urlpatterns  # noqa: F401

urlpatterns = service_urlpatterns("catalog", api="catalog.urls", internal="catalog.internal_urls")
