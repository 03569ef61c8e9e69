"""plotly.js, served from the installed plotly package so that the dashboards need no CDN."""

import gzip
import hashlib
from functools import cache
from pathlib import Path

import plotly
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
ONE_YEAR = 365 * 24 * 3600


def plotly_js_url() -> str:
    # The version is in the address, so the file can be cached for a year and still change on upgrade.
    return reverse("reports:plotly-js", args=[plotly.__version__])


@cache
def _plotly_bundle() -> tuple[bytes, bytes, str]:
    body = PLOTLY_JS.read_bytes()
    return body, gzip.compress(body, compresslevel=6, mtime=0), hashlib.sha256(body).hexdigest()[:32]


@require_safe
def plotly_js(request, version: str):
    if version != plotly.__version__:
        raise Http404
    body, compressed, digest = _plotly_bundle()
    etag = f'"{digest}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    elif "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(compressed, content_type="text/javascript; charset=utf-8")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    patch_vary_headers(response, ["Accept-Encoding"])
    return response
