"""The OpenAPI schema and its readers: every operation described, in both languages where the schema allows, and
Swagger UI and ReDoc served from the site under its Content-Security-Policy."""

import pytest
import yaml
from django.urls import reverse
from django.utils import translation

from students.choices import Status
from tests.test_security_headers import policy

pytestmark = pytest.mark.django_db


def test_the_schema_describes_every_operation_of_the_api(client):
    response = client.get(reverse("api:schema"))
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    operations = [op for path, ops in schema["paths"].items() for op in ops.values() if path.startswith("/api/v1/")]
    assert len(operations) >= 30
    for operation in operations:
        assert operation.get("summary") or operation.get("description"), operation["operationId"]
        assert {"401", "404", "429"} <= set(operation["responses"]), operation["operationId"]
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    visit = schema["paths"]["/api/v1/cases/{id}/visits/"]["post"]
    assert "记录劝返" in visit["summary"] and "Record a visit" in visit["summary"]
    assert any(p["name"] == "Idempotency-Key" for p in visit["parameters"])


def test_the_schema_speaks_the_requests_language(client):
    english = client.get(reverse("api:schema"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(reverse("api:schema"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    with translation.override("zh-hans"):
        returned = str(Status.RETURNED.label)
    assert returned != "Returned to school"
    assert f"`returned` - {returned}" in chinese
    assert "`returned` - Returned to school" in english


def test_swagger_ui_keeps_the_sites_policy_and_loads_its_start_up_script_as_a_file(client):
    page = client.get(reverse("api:docs"))
    assert page.status_code == 200
    directives = policy(page)
    assert directives["script-src"] == ["'self'"] and directives["style-src"] == ["'self'"]
    html = page.content.decode()
    assert "<style" not in html and "<script>" not in html
    assert "swagger-ui-bundle.js" in html and "/static/" in html
    script = client.get(reverse("api:docs") + "?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert reverse("api:schema") in script.content.decode()


def test_redoc_alone_may_draw_its_styles_inline(client):
    page = client.get(reverse("api:redoc"))
    assert page.status_code == 200
    directives = policy(page)
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'", "'unsafe-inline'"]
    assert "fonts.googleapis.com" not in page.content.decode()
    elsewhere = policy(client.get(reverse("api:docs")))
    assert elsewhere["style-src"] == ["'self'"]


def test_the_readers_files_are_served_by_the_site(client):
    for name in (
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js",
    ):
        assert client.get(f"/static/{name}").status_code == 200, name
