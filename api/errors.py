"""Every refusal of the API as JSON: {"code", "message", "field", "errors"}, in the request's language.

`message` is in the language of the request's Accept-Language (django.middleware.locale); `errors` lists each
problem of bad input with its `field` (null for a problem of the whole request) and `field` repeats the first
one's. The messages of bad input are the forms' and the services' own, so the pages and the API say the same thing
in the same words.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from students.services import StaleCaseError

NON_FIELD = "__all__"


class Conflict(exceptions.APIException):
    """The case changed after the version the request was built on (students.services.StaleCaseError)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "stale"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"


def invalid(problems: list[tuple[str | None, str, str]]) -> Response:
    """A 400 for bad input: (field, code, message) for each problem."""
    errors = [{"field": field, "code": code, "message": str(message)} for field, code, message in problems]
    first = errors[0] if errors else {"field": None, "message": _("The request is not valid.")}
    return Response(
        {"code": "invalid", "message": first["message"], "field": first["field"], "errors": errors},
        status=status.HTTP_400_BAD_REQUEST,
    )


def django_problems(error: DjangoValidationError, field_map: dict[str, str] | None = None):
    """(field, code, message) of a Django ValidationError (a form's or a service's)."""
    field_map = field_map or {}
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            field = None if name == NON_FIELD else field_map.get(name, name)
            for item in errors:
                for message in item.messages:
                    yield field, item.code or "invalid", message
    else:
        for item in error.error_list:
            for message in item.messages:
                yield None, item.code or getattr(error, "code", None) or "invalid", message


def form_problems(form, field_map: dict[str, str] | None = None):
    field_map = field_map or {}
    for name, errors in form.errors.as_data().items():
        field = None if name == NON_FIELD else field_map.get(name, name)
        for item in errors:
            for message in item.messages:
                yield field, item.code or "invalid", message


def _drf_problems(detail, field: str | None = None):
    if isinstance(detail, dict):
        for name, inner in detail.items():
            name = None if name in (NON_FIELD, "non_field_errors") else name
            yield from _drf_problems(inner, ".".join(filter(None, [field, name])) or None)
    elif isinstance(detail, list):
        for n, inner in enumerate(detail):
            inner_field = f"{field}.{n}" if field and isinstance(inner, dict) else field
            yield from _drf_problems(inner, inner_field)
    else:
        yield field, getattr(detail, "code", None) or "invalid", str(detail)


def exception_handler(exc, context):
    if isinstance(exc, StaleCaseError):
        exc = Conflict(" ".join(exc.messages))
    elif isinstance(exc, DjangoValidationError):
        return invalid(list(django_problems(exc)))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found: it does not exist, or it is outside your area."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        problems = list(_drf_problems(exc.detail)) or [(None, "invalid", _("The request is not valid."))]
        response.data = invalid(problems).data
        return response
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    response.data = {"code": code, "message": str(detail), "field": None}
    return response
