"""Areas, county groups and schools, within the user's scope (students.access)."""

import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from counties.models import CountyGroup, Level, SchoolKind
from students.access import divisions_visible_to, schools_visible_to, scope_for

from ..serializers import AreaSerializer, GroupSerializer, SchoolSerializer, numbered_page
from .base import LedgerView, Pages


def date_param(request, name: str, default: datetime.date | None = None) -> datetime.date | None:
    """A date from the query (YYYY-MM-DD); a 400 naming the parameter when it cannot be read."""
    text = request.query_params.get(name, "").strip()
    if not text:
        return default
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise exceptions.ValidationError({name: [_("Enter a date as YYYY-MM-DD.")]}) from None


def _divisions(user):
    return divisions_visible_to(user).select_related("parent", "province", "prefecture").order_by("code")


class AreaList(LedgerView):
    @extend_schema(
        operation_id="areas_list",
        summary="Areas · 行政区划",
        description=(
            "Provinces, prefectures and counties you may open, with their GB/T 2260 codes and parents.\n\n"
            "您可查看的省、市、县，含国标代码及上级。"
        ),
        parameters=[
            OpenApiParameter("level", OpenApiTypes.STR, enum=list(Level.values)),
            OpenApiParameter("parent", OpenApiTypes.STR, description="The parent's code · 上级代码"),
        ],
        responses=numbered_page(AreaSerializer),
    )
    def get(self, request):
        divisions = _divisions(request.user)
        level = request.query_params.get("level")
        if level:
            if level not in Level.values:
                raise exceptions.ValidationError({"level": [_("Choose province, prefecture or county.")]})
            divisions = divisions.filter(level=level)
        if request.query_params.get("parent"):
            divisions = divisions.filter(parent__code=request.query_params["parent"])
        page = self.paginate(divisions, Pages)
        return self.paginator.get_paginated_response(AreaSerializer(page, many=True, context=self.context()).data)


class AreaDetail(LedgerView):
    @extend_schema(summary="An area · 一个行政区划", responses=AreaSerializer)
    def get(self, request, code: str):
        division = get_object_or_404(_divisions(request.user), code=code)
        return Response(AreaSerializer(division, context=self.context()).data)


AS_OF = OpenApiParameter(
    "as_of", OpenApiTypes.DATE, description="The members of this day (default: today) · 成员所属日期（默认今天）"
)


def _groups(user):
    # A group spans provinces: only those who see the whole country see groups, as on the dashboards.
    if not scope_for(user).everything:
        return CountyGroup.objects.none()
    return CountyGroup.objects.order_by("slug")


class GroupList(LedgerView):
    @extend_schema(
        operation_id="groups_list",
        summary="County groups · 县组",
        description=(
            "The county groups and their member counties as of a day (national users).\n\n"
            "各县组及其在某日的成员县（全国用户）。"
        ),
        parameters=[AS_OF],
        responses=numbered_page(GroupSerializer),
    )
    def get(self, request):
        as_of = date_param(request, "as_of", timezone.localdate())
        page = self.paginate(_groups(request.user), Pages)
        context = self.context(as_of=as_of)
        return self.paginator.get_paginated_response(GroupSerializer(page, many=True, context=context).data)


class GroupDetail(LedgerView):
    @extend_schema(summary="A county group · 一个县组", parameters=[AS_OF], responses=GroupSerializer)
    def get(self, request, slug: str):
        as_of = date_param(request, "as_of", timezone.localdate())
        group = get_object_or_404(_groups(request.user), slug=slug)
        return Response(GroupSerializer(group, context=self.context(as_of=as_of)).data)


def _schools(user):
    return schools_visible_to(user).select_related("county").order_by("code")


class SchoolList(LedgerView):
    @extend_schema(
        operation_id="schools_list",
        summary="Schools · 学校",
        description="The schools in your area · 您范围内的学校。",
        parameters=[
            OpenApiParameter("county", OpenApiTypes.STR, description="A county's code · 县代码"),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=list(SchoolKind.values)),
        ],
        responses=numbered_page(SchoolSerializer),
    )
    def get(self, request):
        schools = _schools(request.user)
        if request.query_params.get("county"):
            schools = schools.filter(county__code=request.query_params["county"])
        if request.query_params.get("kind"):
            schools = schools.filter(kind=request.query_params["kind"])
        page = self.paginate(schools, Pages)
        return self.paginator.get_paginated_response(SchoolSerializer(page, many=True, context=self.context()).data)


class SchoolDetail(LedgerView):
    @extend_schema(summary="A school · 一所学校", responses=SchoolSerializer)
    def get(self, request, code: str):
        return Response(SchoolSerializer(get_object_or_404(_schools(request.user), code=code)).data)
