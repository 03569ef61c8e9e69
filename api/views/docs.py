"""The OpenAPI schema and its two readers, Swagger UI and ReDoc, served from this site (drf-spectacular-sidecar).

Both pages keep the site's Content-Security-Policy: their scripts and styles are files of the site, none inline
(Swagger UI's start-up script is served as a file by drf-spectacular's split view). ReDoc alone draws its styles
into <style> elements as it renders, which no file can replace: its page, and only it, allows inline styles and
a worker of its own making (blob:).
"""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.http import Http404
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 schema, in the request's language (Accept-Language)."""


class SwaggerView(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"
    url_name = "api:schema"


@method_decorator(csp_update({"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]}), name="get")
class RedocView(SpectacularRedocView):
    template_name = "api/redoc.html"
    url_name = "api:schema"


@extend_schema(exclude=True)
class NotFound(APIView):
    """Any address under /api/v1/ that names no operation: a 404 in the API's JSON, whatever the method."""

    permission_classes = [AllowAny]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise Http404
