"""Content-Security-Policy on every answer (Django 5.2 has none of its own).

HTML pages (the admins, Swagger UI) get CONTENT_SECURITY_POLICY: everything from
the service's own origin, which is where WhiteNoise serves the admin's and
drf-spectacular-sidecar's files (SWAGGER_UI_DIST = "SIDECAR": no CDN), no inline
or eval'd script (the docs page loads its start-up script from a URL: shopkit.urls
uses the "split" Swagger view), inline styles allowed (the admin's and Swagger
UI's own), images also as data: URIs (Swagger UI's icons). Other answers (JSON,
problems) are never rendered as a page, so they get the strictest policy.
"""

from django.conf import settings

NOTHING_POLICY = "default-src 'none'; frame-ancestors 'none'"


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            is_page = response.get("Content-Type", "").startswith("text/html")
            response["Content-Security-Policy"] = (
                settings.CONTENT_SECURITY_POLICY if is_page else NOTHING_POLICY
            )
        return response
