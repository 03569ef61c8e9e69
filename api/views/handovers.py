"""Handovers of cases between counties: read through the scoping rule, asked for and accepted with the handover
screens' forms and students.handover's rules."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from counties.models import Level
from students import handover as rules
from students.access import get_case_for_user, handovers_visible_to, scope_for
from students.choices import HandoverStatus, ResponsibleRole
from students.forms import ResponsiblePersonsForm
from students.views.handover import HandoverAcceptForm, HandoverClaimForm, HandoverRequestForm

from ..errors import form_problems, invalid
from ..idempotency import PARAMETER as IDEMPOTENCY_KEY
from ..idempotency import idempotent
from ..serializers import (
    ErrorSerializer,
    HandoverAcceptInSerializer,
    HandoverClaimInSerializer,
    HandoverRequestInSerializer,
    HandoverSerializer,
    numbered_page,
)
from .actions import Refused, act, payload, refusing
from .base import LedgerView, Pages

ERRORS = {400: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer, 422: ErrorSerializer}


def _handovers(user):
    return handovers_visible_to(user).select_related(
        "case__student", "case__school", "from_county", "to_county", "to_school"
    )


def _answer(view, handovers) -> list[dict]:
    context = view.context(visible_case_ids=rules.visible_case_ids(view.request.user, handovers))
    return HandoverSerializer(handovers, many=True, context=context).data


def _one(view, handover) -> dict:
    return _answer(view, [handover])[0]


def _not_found_on_refusal(call):
    """A refusal of the role is a 404, as on the handover screens: the handover is not the user's to decide."""
    try:
        return call()
    except (PermissionDenied, exceptions.PermissionDenied):
        raise Http404 from None


class HandoverList(LedgerView):
    @extend_schema(
        operation_id="handovers_list",
        summary="Handovers · 转移",
        description="Handovers into and out of your area · 转入和转出您地区的个案转移。",
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=list(HandoverStatus.values))],
        responses=numbered_page(HandoverSerializer),
    )
    def get(self, request):
        handovers = _handovers(request.user).order_by("-requested_at", "-pk")
        if request.query_params.get("status"):
            handovers = handovers.filter(status=request.query_params["status"])
        page = self.paginate(handovers, Pages)
        return self.paginator.get_paginated_response(_answer(self, list(page)))


class HandoverDetail(LedgerView):
    @extend_schema(summary="A handover · 一次转移", responses=HandoverSerializer)
    def get(self, request, pk: int):
        return Response(_one(self, get_object_or_404(_handovers(request.user), pk=pk)))


class CaseHandover(LedgerView):
    @extend_schema(
        summary="Ask another county to take the case · 申请转出",
        description=(
            "The holding county asks another county to take the case; it stays here until accepted.\n\n"
            "所在县请求另一县接收个案；对方接收前个案仍留在本县。"
        ),
        request=HandoverRequestInSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: HandoverSerializer, **ERRORS},
    )
    @idempotent
    @refusing
    def post(self, request, pk: int):
        case = get_case_for_user(request.user, pk, for_update=True)
        form = HandoverRequestForm(payload(request), case=case)
        handover = _not_found_on_refusal(
            lambda: act(
                form,
                lambda d: rules.handover_request(
                    case=case, to_county=d["to_county"], reason=d["reason"], note=d["note"], user=request.user
                ),
            )
        )
        return Response(_one(self, handover), status=status.HTTP_201_CREATED)


class HandoverClaim(LedgerView):
    @extend_schema(
        summary="Ask for a child's case · 申请转入",
        description=(
            "Your county asks for the case of a child it found, by the child's number typed in full; you learn only "
            "which county holds it.\n\n按儿童完整证件号申请转入其个案；只会得知个案所在县。"
        ),
        request=HandoverClaimInSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: HandoverSerializer, **ERRORS},
    )
    @idempotent
    @refusing
    def post(self, request):
        scope = scope_for(request.user)
        if not scope.can_write or scope.division is None or scope.division.level != Level.COUNTY:
            raise Http404
        form = HandoverClaimForm(payload(request), county=scope.division)
        handover = act(
            form,
            lambda d: rules.handover_claim_by_identifier(
                identifier=d["identifier"],
                reason=d["reason"],
                note=d["note"],
                to_school=d["to_school"],
                user=request.user,
            ),
        )
        return Response(_one(self, handover), status=status.HTTP_201_CREATED)


class HandoverAccept(LedgerView):
    @extend_schema(
        summary="Accept a handover · 接收转移",
        description=(
            "The other side accepts: the case moves to the receiving county from the day given. The receiving "
            "county names the case's responsible persons. Send the case's version: a stale one is a 409.\n\n"
            "另一方接收：个案自所填日期起转入接收县，由接收县指定责任人。须回传个案版本号，过期返回 409。"
        ),
        request=HandoverAcceptInSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: HandoverSerializer, **ERRORS},
    )
    @idempotent
    @refusing
    def post(self, request, pk: int):
        handover = get_object_or_404(_handovers(request.user), pk=pk)
        data = payload(request)
        persons = data.pop("persons", []) or []
        if not isinstance(persons, list):
            raise Refused(invalid([("persons", "invalid", _("Send the persons as a list."))]))
        person_data = {}
        for n, person in enumerate(persons):
            role = person.get("role") if isinstance(person, dict) else None
            if role not in ResponsibleRole.values:
                raise Refused(invalid([(f"persons.{n}.role", "invalid_choice", _("Unknown role."))]))
            person_data[f"persons-name_{role}"] = str(person.get("name") or "")
            person_data[f"persons-phone_{role}"] = str(person.get("phone") or "")
        persons_form = ResponsiblePersonsForm(person_data, case=handover.case, prefix="persons")
        if not persons_form.is_valid():
            raise Refused(invalid(list(form_problems(persons_form))))
        receiving = rules.acts_for_county(request.user, handover.to_county_id)
        _not_found_on_refusal(
            lambda: act(
                HandoverAcceptForm(data, handover=handover),
                lambda d: rules.handover_accept(
                    handover=handover,
                    to_school=d["to_school"],
                    handed_over_on=d["handed_over_on"],
                    persons=persons_form.persons() if receiving else None,
                    note=d["note"],
                    user=request.user,
                    expected_version=d["version"],
                ),
            )
        )
        return Response(_one(self, get_object_or_404(_handovers(request.user), pk=pk)))
