"""Writes to a case, as the case's page makes them: the same forms check the input, the same services act, with
the same rules and messages (students.forms, students.services). Only the shape differs: JSON in, JSON out.

Every action reads the case once, through the write scope (404 outside it, as on the pages), and holds its row
lock while it checks and acts (with_held_case); a stale `version` is a 409; each POST takes an Idempotency-Key
(api.idempotency).
"""

import functools

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from students import services
from students.access import get_case_for_user, scope_for
from students.choices import ResponsibleRole, Status
from students.forms import (
    MAX_VISITOR_ROWS,
    CaseOpenForm,
    CaseResponsiblePersonsForm,
    ChangeStatusForm,
    CloseForm,
    MarkReturnedForm,
    RelapseForm,
    RetentionCheckForm,
    VisitForm,
)
from students.models import ClosureReason

from ..errors import Conflict, django_problems, form_problems, invalid
from ..idempotency import PARAMETER as IDEMPOTENCY_KEY
from ..idempotency import idempotent
from ..serializers import (
    CaseOpenInSerializer,
    CaseRowSerializer,
    CloseInSerializer,
    ErrorSerializer,
    PersonSerializer,
    PersonsInSerializer,
    PersonsSerializer,
    RelapseInSerializer,
    ReturnedInSerializer,
    StatusInSerializer,
    VisitInSerializer,
    VisitSerializer,
)
from .base import LedgerView

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


def payload(request) -> dict:
    """The request's body as a flat dict of the form's fields; a body that is not an object is refused."""
    data = request.data
    if hasattr(data, "dict"):
        return data.dict()
    if not isinstance(data, dict):
        raise exceptions.ValidationError({"__all__": [_("Send a JSON object.")]})
    return {key: _form_value(value) for key, value in data.items()}


def _form_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, (dict, list)):
        return value
    return str(value)


class Refused(Exception):
    """Bad input, already shaped as the API's answer."""

    def __init__(self, response: Response):
        self.response = response


def act(form, service, field_map: dict[str, str] | None = None):
    """Bind `form`, then run `service(cleaned_data)`: the form's and the service's problems as a 400 with their
    fields, a stale version as a 409, a refusal of the role as a 403."""
    field_map = field_map or {}
    if not form.is_valid():
        raise Refused(invalid(list(form_problems(form, field_map))))
    try:
        return service(form.cleaned_data)
    except services.StaleCaseError as error:
        raise Conflict(" ".join(error.messages)) from None
    except PermissionDenied as error:
        raise exceptions.PermissionDenied(str(error) or None) from None
    except ValidationError as error:
        service_fields = {**getattr(form, "service_fields", {}), **field_map}
        if getattr(error, "code", None) == "bad_transition" and "to_status" in form.fields:
            raise Refused(invalid([("to_status", "bad_transition", m) for m in error.messages])) from None
        raise Refused(invalid(list(django_problems(error, service_fields)))) from None


def refusing(method):
    """Answer a `Refused` with its 400."""

    @functools.wraps(method)
    def wrapped(self, request, *args, **kwargs):
        try:
            return method(self, request, *args, **kwargs)
        except Refused as refused:
            return refused.response

    return wrapped


def _row(view, case) -> dict:
    case.refresh_from_db()
    return CaseRowSerializer(case, context=view.context()).data


def with_held_case(method):
    """The action's case, read once through the write scope (404 outside it) and locked while the request checks
    and acts on it (students.services.case_held); the method takes the case in place of its id."""

    @functools.wraps(method)
    def wrapped(self, request, pk: int, *args, **kwargs):
        with services.case_held(request.user, pk) as case:
            return method(self, request, case, *args, **kwargs)

    return wrapped


VISIT_EXAMPLE = OpenApiExample(
    "A home visit · 家访",
    value={
        "visit_date": "2026-11-30",
        "method": "home_visit",
        "outcome": "agreed",
        "visitors": [{"role": "principal", "name": "泽郎扎西"}, {"role": "village_cadre", "name": "村干部"}],
        "notes": "Family agreed to bring her back on Monday. 家长同意周一送孩子返校。",
    },
    request_only=True,
)


class CaseVisits(LedgerView):
    @extend_schema(
        summary="Record a visit · 记录劝返",
        description=(
            "A persuasion visit on an open case; the first one marks the case as being persuaded. Send an "
            "Idempotency-Key: a retry records nothing twice.\n\n"
            "为在册个案记录一次劝返；首次劝返使个案转为“劝返中”。请附 Idempotency-Key，重试不会重复记录。"
        ),
        request=VisitInSerializer,
        parameters=[IDEMPOTENCY_KEY],
        examples=[VISIT_EXAMPLE],
        responses={201: VisitSerializer, 422: ErrorSerializer, **ERRORS},
    )
    @idempotent
    @refusing
    @with_held_case
    def post(self, request, case):
        data = payload(request)
        visitors = data.pop("visitors", [])
        field_map = {}
        if not isinstance(visitors, list):
            raise Refused(invalid([("visitors", "invalid", _("Send the visitors as a list."))]))
        if len(visitors) > MAX_VISITOR_ROWS:
            message = _("At most %(count)d visitors are recorded for one visit.") % {"count": MAX_VISITOR_ROWS}
            raise Refused(invalid([("visitors", "too_many", message)]))
        for n, visitor in enumerate(visitors):
            if not isinstance(visitor, dict):
                raise Refused(invalid([(f"visitors.{n}", "invalid", _("Send each visitor as an object."))]))
            data[f"visitor_role_{n}"] = str(visitor.get("role") or "")
            data[f"visitor_name_{n}"] = str(visitor.get("name") or "")
            field_map[f"visitor_role_{n}"] = f"visitors.{n}.role"
            field_map[f"visitor_name_{n}"] = f"visitors.{n}.name"
        data.setdefault("version", str(case.version))
        form = VisitForm(data, case=case)
        visit = act(
            form,
            lambda d: services.visit_record(
                case=case,
                visit_date=d["visit_date"],
                visitors=d["visitors"],
                method=d["method"],
                outcome=d["outcome"],
                notes=d["notes"],
                next_follow_up=d["next_follow_up"],
                user=request.user,
            ),
            field_map,
        )
        return Response(VisitSerializer(visit, context=self.context()).data, status=status.HTTP_201_CREATED)


class CaseStatus(LedgerView):
    @extend_schema(
        summary="Change the status · 变更状态",
        description=(
            "Move the case to being persuaded or retained; returns, closures and relapses have their own actions.\n\n"
            "将个案转为“劝返中”或“巩固”；复学、销号、再次辍学另有接口。"
        ),
        request=StatusInSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: CaseRowSerializer, 422: ErrorSerializer, **ERRORS},
    )
    @idempotent
    @refusing
    @with_held_case
    def post(self, request, case):
        data = payload(request)
        if data.get("to_status") == Status.RETAINED:
            form = RetentionCheckForm({**data, "checked_on": data.get("effective_date", "")}, case=case)
            act(
                form,
                lambda d: services.case_record_retention_check(
                    case=case,
                    checked_on=d["checked_on"],
                    note=d["note"],
                    user=request.user,
                    expected_version=d["version"],
                ),
                {"checked_on": "effective_date"},
            )
        else:
            act(
                ChangeStatusForm(data, case=case),
                lambda d: services.case_change_status(
                    case=case,
                    to_status=d["to_status"],
                    effective_date=d["effective_date"],
                    note=d["note"],
                    user=request.user,
                    expected_version=d["version"],
                ),
            )
        return Response(_row(self, case))


class CaseReturned(LedgerView):
    @extend_schema(
        summary="Mark returned · 复学销号",
        description="The child is back in school: the case is struck off · 儿童已复学，个案销号。",
        request=ReturnedInSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: CaseRowSerializer, 422: ErrorSerializer, **ERRORS},
    )
    @idempotent
    @refusing
    @with_held_case
    def post(self, request, case):
        act(
            MarkReturnedForm(payload(request), case=case),
            lambda d: services.case_mark_returned(
                case=case,
                returned_on=d["returned_on"],
                placement=d["placement"],
                note=d["note"],
                user=request.user,
                expected_version=d["version"],
            ),
        )
        return Response(_row(self, case))


class CaseClose(LedgerView):
    @extend_schema(
        summary="Close · 销号（非复学）",
        description="Close the case for a reason other than a return · 因复学以外的原因销号。",
        request=CloseInSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: CaseRowSerializer, 422: ErrorSerializer, **ERRORS},
    )
    @idempotent
    @refusing
    @with_held_case
    def post(self, request, case):
        data = payload(request)
        # The form chooses a closure reason by its id; the API names it by its code.
        reason = ClosureReason.objects.filter(active=True, code=data.get("closure_reason", "")).first()
        data["closure_reason"] = str(reason.pk) if reason else data.get("closure_reason", "")
        act(
            CloseForm(data, case=case),
            lambda d: services.case_change_status(
                case=case,
                to_status=Status.CLOSED,
                effective_date=d["effective_date"],
                closure_reason=d["closure_reason"],
                note=d["note"],
                user=request.user,
                expected_version=d["version"],
            ),
        )
        return Response(_row(self, case))


class CaseRelapse(LedgerView):
    @extend_schema(
        summary="Relapse · 再次辍学",
        description="A returned child dropped out again: a new case is opened · 复学儿童再次辍学，开立新个案。",
        request=RelapseInSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: CaseRowSerializer, 422: ErrorSerializer, **ERRORS},
    )
    @idempotent
    @refusing
    @with_held_case
    def post(self, request, case):
        new_case = act(
            RelapseForm(payload(request), case=case),
            lambda d: services.case_reopen_on_relapse(
                case=case,
                dropout_date=d["dropout_date"],
                reason=d["reason"],
                grade=d["grade"],
                note=d["note"],
                user=request.user,
                expected_version=d["version"],
            ),
        )
        return Response(_row(self, new_case), status=status.HTTP_201_CREATED)


class CasePersons(LedgerView):
    @extend_schema(
        summary="A case's responsible persons · 责任人",
        description="With the case's version, to send back with a change · 附个案版本号，修改时须回传。",
        responses=PersonsSerializer,
    )
    def get(self, request, pk: int):
        case = get_case_for_user(request.user, pk)
        persons = case.responsible_persons.order_by("line", "role")
        return Response(
            {"version": case.version, "persons": PersonSerializer(persons, many=True, context=self.context()).data}
        )

    @extend_schema(
        summary="Set the responsible persons · 设置责任人",
        description=(
            "Replace the case's responsible persons, one per role. Send the version you read: if the case changed "
            "since, nothing is saved and the answer is 409.\n\n"
            "按角色整体替换责任人（每个角色一人）。须回传读取时的版本号；其间个案如有变动，不保存并返回 409。"
        ),
        request=PersonsInSerializer,
        responses={200: PersonsSerializer, **ERRORS},
    )
    @refusing
    @with_held_case
    def put(self, request, case):
        data = payload(request)
        persons = data.pop("persons", [])
        if not isinstance(persons, list):
            raise Refused(invalid([("persons", "invalid", _("Send the persons as a list."))]))
        field_map = {}
        for n, person in enumerate(persons):
            role = person.get("role") if isinstance(person, dict) else None
            if role not in ResponsibleRole.values:
                raise Refused(invalid([(f"persons.{n}.role", "invalid_choice", _("Unknown role."))]))
            if f"name_{role}" in data:
                raise Refused(invalid([(f"persons.{n}.role", "duplicate", _("One person per role."))]))
            data[f"name_{role}"] = str(person.get("name") or "")
            data[f"phone_{role}"] = str(person.get("phone") or "")
            field_map[f"name_{role}"] = f"persons.{n}.name"
            field_map[f"phone_{role}"] = f"persons.{n}.phone"
        act(
            CaseResponsiblePersonsForm(data, case=case),
            lambda d: services.case_set_responsible_persons(
                case=case, persons=d["persons"], user=request.user, expected_version=d["version"]
            ),
            field_map,
        )
        case.refresh_from_db()
        shown = case.responsible_persons.order_by("line", "role")
        return Response(
            {"version": case.version, "persons": PersonSerializer(shown, many=True, context=self.context()).data}
        )


class CaseOpen(LedgerView):
    @extend_schema(
        summary="Open a case · 新建个案",
        description=(
            "Put a child on the ledger, as the new-case form does, with its checks of the ID and registry numbers. "
            "A child already open elsewhere is refused with the holding county's name.\n\n"
            "与新建个案表单相同，校验身份证号和学籍号。儿童已在其他县在册时拒绝，并告知所在县。"
        ),
        request=CaseOpenInSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: CaseRowSerializer, 422: ErrorSerializer, **ERRORS},
    )
    @idempotent
    @refusing
    def post(self, request):
        if not scope_for(request.user).can_write:
            raise exceptions.PermissionDenied(_("Your role cannot change the ledger."))
        data = payload(request)
        # Han (01), as the form offers it first, when the request names no ethnic group.
        data.setdefault("ethnicity", "01")
        form = CaseOpenForm(data, user=request.user)
        case = act(
            form,
            lambda d: services.case_open(
                student=form.student_data(),
                school=d["school"],
                grade=d["grade"],
                dropout_date=d["dropout_date"],
                reason=d["reason"],
                reason_detail=d["reason_detail"],
                user=request.user,
            ),
        )
        return Response(_row(self, case), status=status.HTTP_201_CREATED)
