"""What the API answers, and what it reads: every child's data through the disclosure rule.

Each output serializer declares its fields (the OpenAPI schema is made from them) and builds its answer in
`to_representation` from `self.context["disclosure"]` (students.disclosure.disclosure_for of the request's
user): a token gets exactly what its user gets on the pages, masked the same way. Input serializers describe the
requests; the rules are the forms' and the services' (api.views.actions).
"""

import datetime

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from counties.models import SchoolKind
from students.choices import (
    Disability,
    Gender,
    HandoverReason,
    HandoverStatus,
    LeftBehind,
    Line,
    Placement,
    Reason,
    ResponsibleRole,
    Status,
    VisitMethod,
    VisitorRole,
    VisitOutcome,
    label_of,
)
from students.disclosure import Disclosure
from students.handover import handover_child, handover_note
from students.import_jobs import import_job_problems
from students.import_problems import PROBLEMS_LISTED

# Output ------------------------------------------------------------------------------------------------------


class PlaceSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


def place(obj) -> dict | None:
    return {"code": obj.code, "name": obj.name} if obj is not None else None


class AreaSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("GB/T 2260 code"))
    name = serializers.CharField()
    level = serializers.ChoiceField(choices=["province", "prefecture", "county"])
    kind = serializers.CharField()
    parent = serializers.CharField(allow_null=True, help_text=_("The parent division's code"))
    province = serializers.CharField(allow_null=True)
    prefecture = serializers.CharField(allow_null=True)

    def to_representation(self, division) -> dict:
        return {
            "code": division.code,
            "name": division.name,
            "level": division.level,
            "kind": division.kind,
            "parent": division.parent.code if division.parent_id else None,
            "province": division.province.code if division.province_id else None,
            "prefecture": division.prefecture.code if division.prefecture_id else None,
        }


class GroupSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    description = serializers.CharField()
    as_of = serializers.DateField(help_text=_("The day the members are those of"))
    counties = PlaceSerializer(many=True)

    def to_representation(self, group) -> dict:
        as_of = self.context["as_of"]
        return {
            "slug": group.slug,
            "name": group.name,
            "name_en": group.name_en,
            "description": group.description,
            "as_of": as_of.isoformat(),
            "counties": [place(county) for county in group.counties_on(as_of).order_by("code")],
        }


class SchoolSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("10-digit school identification code"))
    name = serializers.CharField()
    county = PlaceSerializer()
    township = serializers.CharField()
    kind = serializers.ChoiceField(choices=SchoolKind.choices)
    kind_label = serializers.CharField()

    def to_representation(self, school) -> dict:
        return {
            "code": school.code,
            "name": school.name,
            "county": place(school.county),
            "township": school.township,
            "kind": school.kind,
            "kind_label": str(label_of(SchoolKind, school.kind)),
        }


def _date(value) -> str | None:
    return value.isoformat() if value else None


def case_api_url(pk: int) -> str:
    return reverse("api:case-detail", args=[pk])


class CaseRowSerializer(serializers.Serializer):
    """A case as the case list shows it: the child's name and ID number shortened (or masked)."""

    id = serializers.IntegerField()
    url = serializers.CharField()
    version = serializers.IntegerField(help_text=_("Send it back with a change: a stale version is refused (409)"))
    status = serializers.ChoiceField(choices=Status.choices)
    status_label = serializers.CharField()
    reason = serializers.ChoiceField(choices=Reason.choices)
    reason_label = serializers.CharField()
    grade = serializers.IntegerField()
    dropout_date = serializers.DateField()
    returned_on = serializers.DateField(allow_null=True)
    struck_off_on = serializers.DateField(allow_null=True)
    county = PlaceSerializer()
    school = PlaceSerializer()
    child_id = serializers.IntegerField()
    child_name = serializers.CharField()
    id_number = serializers.CharField(help_text=_("Shortened, or only whether one is recorded, by your role"))

    def to_representation(self, case) -> dict:
        disclosure: Disclosure = self.context["disclosure"]
        return {
            "id": case.pk,
            "url": case_api_url(case.pk),
            "version": case.version,
            "status": case.status,
            "status_label": str(case.get_status_display()),
            "reason": case.reason,
            "reason_label": str(case.get_reason_display()),
            "grade": case.grade,
            "dropout_date": case.dropout_date.isoformat(),
            "returned_on": _date(case.returned_on),
            "struck_off_on": _date(case.struck_off_on),
            "county": place(case.county),
            "school": place(case.school),
            "child_id": case.student_id,
            "child_name": disclosure.name(case.student.name),
            "id_number": disclosure.list_id_number(case.student.id_number),
        }


class ChildSerializer(serializers.Serializer):
    """A child, as the case page shows them (students.disclosure)."""

    id = serializers.IntegerField()
    masked = serializers.BooleanField(help_text=_("Whether identifiers are masked for your role"))
    name = serializers.CharField()
    gender = serializers.ChoiceField(choices=Gender.choices)
    ethnicity = serializers.CharField()
    birth_date = serializers.CharField(help_text=_("YYYY-MM-DD, or the year alone when masked"))
    id_number = serializers.CharField()
    registry_number = serializers.CharField()
    address = serializers.CharField()
    hukou_place = serializers.CharField()
    guardian_name = serializers.CharField()
    guardian_phone = serializers.CharField()
    registered_poor = serializers.BooleanField()
    left_behind = serializers.ChoiceField(choices=[("", "—"), *LeftBehind.choices])
    migrant = serializers.BooleanField()
    orphan = serializers.BooleanField()
    unsupported = serializers.BooleanField()
    disability = serializers.ChoiceField(choices=[("", "—"), *Disability.choices])

    def to_representation(self, student) -> dict:
        child = self.context["disclosure"].child(student)
        birth = child.birth_date
        return {
            "id": student.pk,
            "masked": child.masked,
            "name": child.name,
            "gender": student.gender,
            "ethnicity": student.ethnicity,
            "birth_date": birth.isoformat() if isinstance(birth, datetime.date) else str(birth or ""),
            "id_number": child.id_number,
            "registry_number": child.registry_number,
            "address": child.address,
            "hukou_place": child.hukou_place,
            "guardian_name": child.guardian_name,
            "guardian_phone": child.guardian_phone,
            "registered_poor": student.registered_poor,
            "left_behind": student.left_behind,
            "migrant": student.migrant,
            "orphan": student.orphan,
            "unsupported": student.unsupported,
            "disability": student.disability,
        }


class ChildRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    gender = serializers.ChoiceField(choices=Gender.choices)
    birth_year = serializers.IntegerField(allow_null=True)
    id_number = serializers.CharField(help_text=_("Shortened, or only whether one is recorded, by your role"))

    def to_representation(self, student) -> dict:
        disclosure: Disclosure = self.context["disclosure"]
        return {
            "id": student.pk,
            "name": disclosure.name(student.name),
            "gender": student.gender,
            "birth_year": student.birth_date.year if student.birth_date else None,
            "id_number": disclosure.list_id_number(student.id_number),
        }


class ChildDetailSerializer(ChildSerializer):
    cases = CaseRowSerializer(many=True, help_text=_("The child's cases in your scope"))


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    from_status = serializers.CharField()
    to_status = serializers.ChoiceField(choices=Status.choices)
    to_status_label = serializers.CharField()
    effective_date = serializers.DateField()
    recorded_at = serializers.DateTimeField()
    placement = serializers.ChoiceField(choices=[("", "—"), *Placement.choices])
    closure_reason = serializers.CharField(allow_null=True)
    note = serializers.CharField()

    def to_representation(self, event) -> dict:
        return {
            "id": event.pk,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "to_status_label": str(label_of(Status, event.to_status)),
            "effective_date": event.effective_date.isoformat(),
            "recorded_at": event.recorded_at.isoformat(),
            "placement": event.placement,
            "closure_reason": event.closure_reason.code if event.closure_reason_id else None,
            "note": self.context["disclosure"].note(event.note),
        }


class VisitorSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=VisitorRole.choices)
    name = serializers.CharField(help_text=_("Empty for roles that may not read notes about a child"))


class VisitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField()
    visit_date = serializers.DateField()
    method = serializers.ChoiceField(choices=VisitMethod.choices)
    outcome = serializers.ChoiceField(choices=VisitOutcome.choices)
    visitors = VisitorSerializer(many=True)
    notes = serializers.CharField()
    next_follow_up = serializers.DateField(allow_null=True)
    recorded_at = serializers.DateTimeField()

    def to_representation(self, visit) -> dict:
        disclosure: Disclosure = self.context["disclosure"]
        return {
            "id": visit.pk,
            "case": visit.case_id,
            "visit_date": visit.visit_date.isoformat(),
            "method": visit.method,
            "outcome": visit.outcome,
            "visitors": [
                {"role": v.get("role", ""), "name": "" if disclosure.masked else v.get("name", "")}
                for v in visit.visitors
            ],
            "notes": disclosure.note(visit.notes),
            "next_follow_up": _date(visit.next_follow_up),
            "recorded_at": visit.recorded_at.isoformat(),
        }


class PersonSerializer(serializers.Serializer):
    line = serializers.ChoiceField(choices=Line.choices)
    role = serializers.ChoiceField(choices=ResponsibleRole.choices)
    role_label = serializers.CharField()
    name = serializers.CharField()
    phone = serializers.CharField()

    def to_representation(self, person) -> dict:
        shown = self.context["disclosure"].person(person)
        return {
            "line": person.line,
            "role": shown.role,
            "role_label": str(shown.role_label),
            "name": shown.name,
            "phone": shown.phone,
        }


class PersonsSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    persons = PersonSerializer(many=True)


class CaseSerializer(CaseRowSerializer):
    """A case as its page shows it: the child, the history, the visits and the responsible persons."""

    placement = serializers.ChoiceField(choices=[("", "—"), *Placement.choices])
    closure_reason = serializers.CharField(allow_null=True)
    reason_detail = serializers.CharField()
    previous_case = serializers.IntegerField(allow_null=True)
    child = ChildSerializer()
    events = EventSerializer(many=True)
    visits = VisitSerializer(many=True)
    responsible_persons = PersonSerializer(many=True)

    def to_representation(self, case) -> dict:
        disclosure: Disclosure = self.context["disclosure"]
        row = super().to_representation(case)
        return {
            **row,
            "placement": case.placement,
            "closure_reason": case.closure_reason.code if case.closure_reason_id else None,
            "reason_detail": disclosure.note(case.reason_detail),
            "previous_case": case.previous_case_id,
            "child": ChildSerializer(case.student, context=self.context).data,
            "events": EventSerializer(
                case.events.select_related("closure_reason").order_by("effective_date", "pk"),
                many=True,
                context=self.context,
            ).data,
            "visits": VisitSerializer(case.visits.order_by("-visit_date", "-pk"), many=True, context=self.context).data,
            "responsible_persons": PersonSerializer(
                case.responsible_persons.order_by("line", "role"), many=True, context=self.context
            ).data,
        }


class TotalsDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    open_count = serializers.IntegerField()
    new_count = serializers.IntegerField()
    returned_count = serializers.IntegerField()
    open_poor = serializers.IntegerField()
    baseline_open = serializers.IntegerField()


class TotalsAreaSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["nation", "division", "group"])
    code = serializers.CharField(allow_null=True, help_text=_("A division's code, a group's short name"))
    name = serializers.CharField()
    as_of = serializers.DateField(allow_null=True, help_text=_("A group held as its members were on this day"))


class TotalsSeriesSerializer(serializers.Serializer):
    area = TotalsAreaSerializer()
    since = serializers.DateField()
    until = serializers.DateField()
    computed_at = serializers.DateTimeField(allow_null=True, help_text=_("When the totals were last computed"))
    days = TotalsDaySerializer(many=True)


class ProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True)
    column = serializers.CharField(allow_null=True)
    value = serializers.CharField(allow_null=True)
    message = serializers.CharField(allow_null=True)


class JobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    progress = serializers.IntegerField(help_text=_("Per cent done"))
    counts = serializers.DictField(child=serializers.JSONField())
    finished = serializers.BooleanField()
    dry_run = serializers.BooleanField(help_text=_("A check of an import file, which imports nothing"))
    county = PlaceSerializer(allow_null=True)
    error = serializers.CharField()
    problems = ProblemSerializer(
        many=True,
        help_text=_(
            "The first 1000 problems a check found, in the file's order (counts.problems has how many it found); "
            "empty in a list of jobs"
        ),
    )
    warnings = serializers.ListField(child=serializers.JSONField())
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, job) -> dict:
        disclosure: Disclosure = self.context["disclosure"]
        report = job.report if isinstance(job.report, dict) else {}
        # A list of jobs leaves the problems out (context "problems": False): each job's report file is read for
        # the job's own answer only.
        listed = import_job_problems(job, limit=PROBLEMS_LISTED) if self.context.get("problems", True) else []
        problems = [
            {
                "row": p.get("row") if isinstance(p.get("row"), int) else None,
                "column": _text_or_none(p.get("column")),
                "value": _text_or_none(disclosure.text(str(p["value"])) if p.get("value") is not None else None),
                "message": _text_or_none(disclosure.text(str(p["message"])) if p.get("message") is not None else None),
            }
            for p in listed
        ]
        return {
            "id": job.pk,
            "url": reverse("api:job-detail", args=[job.pk]),
            "kind": job.kind,
            "status": job.status,
            "status_label": str(job.status_label),
            "progress": job.progress,
            "counts": job.counts or {},
            "finished": job.status in ("succeeded", "failed"),
            "dry_run": bool(job.params.get("dry_run")),
            "county": place(job.county),
            "error": disclosure.text(job.error),
            "problems": problems,
            "warnings": [disclosure.text(str(w)) for w in report.get("warnings", [])],
            "created_at": job.created_at.isoformat(),
            "started_at": job.started_at.isoformat() if job.started_at else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        }


def _text_or_none(value) -> str | None:
    return None if value is None else str(value)


class HandoverChildSerializer(serializers.Serializer):
    name = serializers.CharField()
    birth_year = serializers.IntegerField(allow_null=True)
    grade = serializers.IntegerField()
    dropout_date = serializers.DateField()
    masked = serializers.BooleanField()


class HandoverSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(allow_null=True, help_text=_("The case, when it is in your scope"))
    status = serializers.ChoiceField(choices=HandoverStatus.choices)
    reason = serializers.ChoiceField(choices=HandoverReason.choices)
    from_county = PlaceSerializer()
    to_county = PlaceSerializer()
    to_school = PlaceSerializer(allow_null=True)
    requested_by_receiver = serializers.BooleanField()
    note = serializers.CharField()
    decision_note = serializers.CharField()
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    handed_over_on = serializers.DateField(allow_null=True)
    child = HandoverChildSerializer()

    def to_representation(self, handover) -> dict:
        disclosure: Disclosure = self.context["disclosure"]
        in_scope = handover.case_id in self.context["visible_case_ids"]
        child = handover_child(handover, disclosure, in_scope)
        return {
            "id": handover.pk,
            "case": handover.case_id if in_scope else None,
            "status": handover.status,
            "reason": handover.reason,
            "from_county": place(handover.from_county),
            "to_county": place(handover.to_county),
            "to_school": place(handover.to_school),
            "requested_by_receiver": handover.requested_by_receiver,
            "note": handover_note(handover, handover.note, disclosure, in_scope),
            "decision_note": handover_note(handover, handover.decision_note, disclosure, in_scope),
            "requested_at": handover.requested_at.isoformat(),
            "decided_at": handover.decided_at.isoformat() if handover.decided_at else None,
            "handed_over_on": _date(handover.handed_over_on),
            "child": {
                "name": child.name,
                "birth_year": child.birth_year,
                "grade": child.grade,
                "dropout_date": child.dropout_date.isoformat(),
                "masked": child.masked,
            },
        }


class ErrorItemSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True)
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """Every refusal: a code, a message in the request's language (Accept-Language) and, for bad input, each
    problem with its field."""

    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True, required=False)
    errors = ErrorItemSerializer(many=True, required=False)


# Input -------------------------------------------------------------------------------------------------------


class VersionedSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text=_("The case's version you acted on (from the case)"))


class VisitInSerializer(serializers.Serializer):
    visit_date = serializers.DateField()
    method = serializers.ChoiceField(choices=VisitMethod.choices)
    outcome = serializers.ChoiceField(choices=VisitOutcome.choices)
    visitors = VisitorSerializer(many=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    next_follow_up = serializers.DateField(required=False, allow_null=True)


class StatusInSerializer(VersionedSerializer):
    to_status = serializers.ChoiceField(choices=[Status.PERSUADING, Status.RETAINED])
    effective_date = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True)


class ReturnedInSerializer(VersionedSerializer):
    returned_on = serializers.DateField()
    placement = serializers.ChoiceField(choices=Placement.choices)
    note = serializers.CharField(required=False, allow_blank=True)


class CloseInSerializer(VersionedSerializer):
    effective_date = serializers.DateField()
    closure_reason = serializers.CharField(help_text=_("A closure reason's code"))
    note = serializers.CharField(required=False, allow_blank=True)


class RelapseInSerializer(VersionedSerializer):
    dropout_date = serializers.DateField()
    reason = serializers.ChoiceField(choices=Reason.choices)
    grade = serializers.IntegerField(min_value=1, max_value=9)
    note = serializers.CharField(required=False, allow_blank=True)


class PersonInSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ResponsibleRole.choices)
    name = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(required=False, allow_blank=True)


class PersonsInSerializer(VersionedSerializer):
    persons = PersonInSerializer(many=True, help_text=_("One per role; a role left out has no one"))


class CaseOpenInSerializer(serializers.Serializer):
    school = serializers.CharField(help_text=_("The school's 10-digit code"))
    grade = serializers.IntegerField(min_value=1, max_value=9)
    dropout_date = serializers.DateField()
    reason = serializers.ChoiceField(choices=Reason.choices)
    reason_detail = serializers.CharField(required=False, allow_blank=True)
    name = serializers.CharField()
    gender = serializers.ChoiceField(choices=Gender.choices)
    ethnicity = serializers.CharField(required=False, help_text=_("Two-digit code; 01 is Han"))
    birth_date = serializers.DateField()
    id_number = serializers.CharField(required=False, allow_blank=True)
    registry_number = serializers.CharField(required=False, allow_blank=True)
    hukou_place = serializers.CharField(required=False, allow_blank=True)
    address = serializers.CharField(required=False, allow_blank=True)
    guardian_name = serializers.CharField(required=False, allow_blank=True)
    guardian_phone = serializers.CharField(required=False, allow_blank=True)
    registered_poor = serializers.BooleanField(required=False)
    left_behind = serializers.ChoiceField(choices=[("", "—"), *LeftBehind.choices], required=False)
    migrant = serializers.BooleanField(required=False)
    orphan = serializers.BooleanField(required=False)
    unsupported = serializers.BooleanField(required=False)
    disability = serializers.ChoiceField(choices=[("", "—"), *Disability.choices], required=False)


class ImportInSerializer(serializers.Serializer):
    county = serializers.CharField(help_text=_("The county's six-digit code"))
    file = serializers.FileField(help_text=_("An .xlsx or .csv file laid out like the template"))


class HandoverRequestInSerializer(serializers.Serializer):
    county = serializers.CharField(help_text=_("The receiving county's code or name"))
    province = serializers.CharField(required=False, allow_blank=True)
    reason = serializers.ChoiceField(choices=HandoverReason.choices)
    note = serializers.CharField(required=False, allow_blank=True)


class HandoverClaimInSerializer(serializers.Serializer):
    identifier = serializers.CharField(help_text=_("The child's resident ID or registry number, in full"))
    to_school = serializers.CharField(help_text=_("Your county's school's code"))
    reason = serializers.ChoiceField(choices=HandoverReason.choices)
    note = serializers.CharField(required=False, allow_blank=True)


class HandoverAcceptInSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    handed_over_on = serializers.DateField()
    to_school = serializers.CharField(required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True)
    persons = PersonInSerializer(many=True, required=False)


class CountyDaySerializer(TotalsDaySerializer):
    county = PlaceSerializer()


class CountyTotalsSerializer(serializers.Serializer):
    within = PlaceSerializer(allow_null=True)
    day = serializers.DateField()
    computed_at = serializers.DateTimeField(allow_null=True, help_text=_("When the totals were last computed"))
    counties = CountyDaySerializer(many=True)


# Pages ----------------------------------------------------------------------------------------------------------


def cursor_page(serializer_class) -> type[serializers.Serializer]:
    """The schema of a page of `serializer_class` rows paged by a cursor (api.views.base)."""
    name = serializer_class.__name__.removesuffix("Serializer")
    return type(
        f"{name}CursorPageSerializer",
        (serializers.Serializer,),
        {
            "next": serializers.URLField(allow_null=True, help_text=_("The next page, or null on the last one")),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


def numbered_page(serializer_class) -> type[serializers.Serializer]:
    """The schema of a numbered page of `serializer_class` rows, with their count."""
    name = serializer_class.__name__.removesuffix("Serializer")
    return type(
        f"{name}PageSerializer",
        (serializers.Serializer,),
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )
