"""Children, cases, their events, visits and responsible persons: read through the scoping rule (students.access),
shown through the disclosure rule (api.serializers). A case outside the user's scope is a 404, as on the pages."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from students.access import cases_visible_to, get_case_for_user, students_visible_to, visits_visible_to
from students.disclosure import log_disclosure
from students.models import DisclosurePurpose

from ..filtering import ApiCaseFilter, CaseFilterBackend
from ..serializers import (
    CaseRowSerializer,
    CaseSerializer,
    ChildDetailSerializer,
    ChildRowSerializer,
    ChildSerializer,
    EventSerializer,
    VisitSerializer,
    cursor_page,
)
from .base import CasesCursor, ChildrenCursor, LedgerView, VisitsCursor
from .places import date_param

API_DETAIL = "API"


def log_case_shown(request, case, child_data: dict) -> None:
    """Full identifiers shown, as on a case's page: logged (students.disclosure)."""
    if not child_data["masked"]:
        log_disclosure(request.user, purpose=DisclosurePurpose.CASE_PAGE, case=case, detail=API_DETAIL)


class CaseList(LedgerView):
    filter_backends = [CaseFilterBackend]
    filterset_class = ApiCaseFilter

    def get_queryset(self):
        return cases_visible_to(self.request.user).select_related("student", "county", "school")

    @extend_schema(
        operation_id="cases_list",
        summary="Cases · 个案",
        description=(
            "The cases in your scope with the case list's filters, newest dropout first, 100 a page by a cursor. "
            "Names and ID numbers as the case list shows them to your role.\n\n"
            "您范围内的个案，筛选条件与个案列表相同，按辍学日期从新到旧，每页 100 条（游标分页）。"
            "姓名与身份证号按您的角色显示。"
        ),
        responses=cursor_page(CaseRowSerializer),
    )
    def get(self, request):
        cases = self.filter_backends[0]().filter_queryset(request, self.get_queryset(), self)
        page = self.paginate(cases, CasesCursor)
        return self.paginator.get_paginated_response(CaseRowSerializer(page, many=True, context=self.context()).data)


class CaseDetail(LedgerView):
    @extend_schema(
        summary="A case · 一个个案",
        description=(
            "The case as its page shows it: the child, the history, the visits and the responsible persons. "
            "Full identifiers, for the roles that see them, are logged as a view of the case's page.\n\n"
            "与个案页面相同：儿童信息、状态历史、劝返记录和责任人。查看完整身份信息会记入访问日志。"
        ),
        responses=CaseSerializer,
    )
    def get(self, request, pk: int):
        case = get_case_for_user(request.user, pk)
        data = CaseSerializer(case, context=self.context()).data
        log_case_shown(request, case, data["child"])
        return Response(data)


class CaseEvents(LedgerView):
    @extend_schema(summary="A case's history · 个案状态历史", responses=EventSerializer(many=True))
    def get(self, request, pk: int):
        case = get_case_for_user(request.user, pk)
        events = case.events.select_related("closure_reason").order_by("effective_date", "pk")
        return Response(EventSerializer(events, many=True, context=self.context()).data)


class VisitList(LedgerView):
    @extend_schema(
        summary="Persuasion visits · 劝返记录",
        description=(
            "The visits in your scope, newest first, by a cursor; of one case with `case`.\n\n"
            "您范围内的劝返记录，从新到旧（游标分页）；用 `case` 取单个个案的记录。"
        ),
        parameters=[
            OpenApiParameter("case", OpenApiTypes.INT),
            OpenApiParameter("since", OpenApiTypes.DATE, description="Visits on or after · 起始日期"),
            OpenApiParameter("until", OpenApiTypes.DATE, description="Visits on or before · 截止日期"),
        ],
        responses=cursor_page(VisitSerializer),
    )
    def get(self, request):
        visits = visits_visible_to(request.user)
        case = request.query_params.get("case", "").strip()
        if case:
            visits = visits.filter(case=get_case_for_user(request.user, case))
        since, until = date_param(request, "since"), date_param(request, "until")
        if since:
            visits = visits.filter(visit_date__gte=since)
        if until:
            visits = visits.filter(visit_date__lte=until)
        page = self.paginate(visits, VisitsCursor)
        return self.paginator.get_paginated_response(VisitSerializer(page, many=True, context=self.context()).data)


class ChildList(LedgerView):
    @extend_schema(
        operation_id="children_list",
        summary="Children · 儿童",
        description=(
            "The children with a case in your scope, as the case list names them.\n\n"
            "在您范围内有个案的儿童，显示方式与个案列表相同。"
        ),
        responses=cursor_page(ChildRowSerializer),
    )
    def get(self, request):
        page = self.paginate(students_visible_to(request.user), ChildrenCursor)
        return self.paginator.get_paginated_response(ChildRowSerializer(page, many=True, context=self.context()).data)


class ChildDetail(LedgerView):
    @extend_schema(
        summary="A child · 一名儿童",
        description="The child, as a case's page shows them, and their cases in your scope · 儿童信息及其个案。",
        responses=ChildDetailSerializer,
    )
    def get(self, request, pk: int):
        student = get_or_404(students_visible_to(request.user), pk)
        cases = cases_visible_to(request.user).filter(student=student).select_related("student", "county", "school")
        context = self.context()
        data = ChildSerializer(student, context=context).data
        rows = CaseRowSerializer(cases, many=True, context=context).data
        if not data["masked"]:
            first = cases.first()
            log_disclosure(request.user, purpose=DisclosurePurpose.CASE_PAGE, case=first, detail=API_DETAIL)
        return Response({**data, "cases": rows})


def get_or_404(queryset, pk):
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
