"""Template context shared by the four admins: one back-office header."""

from django.conf import settings

from shopkit.registry import SERVICES


def backoffice(request):
    return {
        "service_name": settings.SERVICE_NAME,
        "backoffice_sections": [
            {
                "service": service.name,
                "label": service.title,
                "url": service.admin_path,
                "current": service.name == settings.SERVICE_NAME,
            }
            for service in SERVICES
        ],
    }
