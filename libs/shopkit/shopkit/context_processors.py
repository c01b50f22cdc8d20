"""Template context shared by the four admins: one back-office header."""

from django.conf import settings

BACKOFFICE_SECTIONS = (
    ("auth", "Customers & staff"),
    ("catalog", "Catalog"),
    ("cart", "Carts"),
    ("orders", "Orders"),
)


def backoffice(request):
    return {
        "service_name": settings.SERVICE_NAME,
        "backoffice_sections": [
            {
                "service": service,
                "label": label,
                "url": f"/{service}/admin/",
                "current": service == settings.SERVICE_NAME,
            }
            for service, label in BACKOFFICE_SECTIONS
        ],
    }
