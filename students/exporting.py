"""Export cases in the ledger's layout (XLSX or CSV), the blank template, and the monthly report.

An export uses the template's columns and vocabulary, so a county can edit its ledger in Excel and
import it again; importing an unedited export changes nothing. A child's data is written as
students.disclosure lets the requesting user see it (the same rule as the case pages); a masked export
cannot be imported again.
Every file is written through students.spreadsheets, which keeps any cell from running as a formula (a leading
apostrophe that the import removes again).
"""

import datetime
import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter

from counties.models import Division, Level

from .choices import Status
from .disclosure import Disclosure
from .ledger_columns import CHOICES, COLUMNS, Kind, label, yes_no
from .models import CaseEvent, ClosureReason, DropoutCase
from .spreadsheets import BOLD, DATE_FORMAT, HEADER_FILL, escape, write_csv, write_xlsx

# Larger exports run as a background job; smaller ones are sent at once.
DIRECT_EXPORT_LIMIT = 5_000
REQUIRED_FILL = PatternFill("solid", fgColor="FDECEA")


def cases_for_export(queryset: QuerySet[DropoutCase]) -> QuerySet[DropoutCase]:
    """The cases with everything a ledger row shows, in one query."""
    last_change = (
        CaseEvent.objects.filter(case=OuterRef("pk")).order_by("-effective_date", "-pk").values("effective_date")[:1]
    )
    return queryset.select_related("student", "school", "closure_reason").annotate(last_change=Subquery(last_change))


def headers(language: str) -> list[str]:
    return [column.header(language) for column in COLUMNS]


def ledger_cells(case: DropoutCase, *, language: str, disclosure: Disclosure) -> list:
    """One case as a row of the ledger, in COLUMNS order, as much of it as the user may see."""
    student = case.student
    identity = disclosure.child(student)
    closure = case.closure_reason
    status_date = case.last_change if case.status != Status.DROPPED_OUT else None
    values = {
        "name": identity.name,
        "gender": label("gender", student.gender, language),
        "ethnicity": label("ethnicity", student.ethnicity, language),
        "birth_date": identity.birth_date,
        "id_number": identity.id_number,
        "registry_number": identity.registry_number,
        "hukou_place": identity.hukou_place,
        "address": identity.address,
        "guardian_name": identity.guardian_name,
        "guardian_phone": identity.guardian_phone,
        "registered_poor": yes_no(student.registered_poor, language),
        "left_behind": label("left_behind", student.left_behind, language),
        "migrant": yes_no(student.migrant, language),
        "orphan": yes_no(student.orphan, language),
        "unsupported": yes_no(student.unsupported, language),
        "disability": label("disability", student.disability, language),
        "school_code": case.school.code,
        "school_name": case.school.name,
        "grade": case.grade,
        "dropout_date": case.dropout_date,
        "reason": label("reason", case.reason, language),
        "reason_detail": disclosure.note(case.reason_detail),
        "status": label("status", case.status, language),
        "status_date": status_date,
        "return_date": case.returned_on,
        "placement": label("placement", case.placement, language) if case.placement else "",
        "closure_reason": (closure.name_en or closure.name if language == "en" else closure.name) if closure else "",
    }
    return [values[column.key] for column in COLUMNS]


def ledger_rows(queryset: QuerySet[DropoutCase], *, language: str, disclosure: Disclosure) -> Iterator[list]:
    for case in cases_for_export(queryset).iterator(chunk_size=2000):
        yield ledger_cells(case, language=language, disclosure=disclosure)


def export_cases(target, queryset: QuerySet[DropoutCase], *, fmt: str, language: str, disclosure: Disclosure) -> None:
    """Write the cases to a binary file object as XLSX or CSV, in the template's layout."""
    rows = ledger_rows(queryset, language=language, disclosure=disclosure)
    if fmt == "xlsx":
        write_xlsx(target, headers(language), rows, title=_("Ledger"), widths=[c.width for c in COLUMNS])
    else:
        write_csv(target, headers(language), rows)


# The template ---------------------------------------------------------------------------------------


def template_workbook(language: str) -> bytes:
    """The blank ledger: a header row (required columns marked) and a sheet explaining each column."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Ledger")[:31]
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header(language))
        cell.font = BOLD
        cell.fill = REQUIRED_FILL if column.required else HEADER_FILL
        if column.note:
            cell.comment = Comment(str(column.note), "")
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        if column.kind in (Kind.ID, Kind.CODE, Kind.TEXT):
            # Text format for the whole column, so Excel keeps ID numbers' 18 digits.
            for row in range(2, 1002):
                sheet.cell(row=row, column=index).number_format = "@"
        elif column.kind == Kind.DATE:
            for row in range(2, 1002):
                sheet.cell(row=row, column=index).number_format = DATE_FORMAT
    sheet.freeze_panes = "A2"

    notes = workbook.create_sheet(_("How to fill in")[:31])
    notes.append([_("Column"), _("Required"), _("Accepted values"), _("Notes")])
    for cell in notes[1]:
        cell.font = BOLD
    for column in COLUMNS:
        row = [
            column.header(language),
            _("yes") if column.required else "",
            _accepted_values(column, language),  # closure reasons' names, typed in the admin
            str(column.note) if column.note else "",
        ]
        notes.append([escape(value) for value in row])
    notes.append([])
    notes.append([_("Headers may be in any order; common variants are accepted (学生姓名 for 姓名, ...).")])
    notes.append([_("Dates: 2019-05-01, 2019/5/1, 2019年5月1日, 20190501 or Excel dates.")])
    notes.append([_("Keep ID numbers as text: a number in Excel loses its last digits.")])
    for letter, width in zip("ABCD", (22, 10, 60, 60), strict=True):
        notes.column_dimensions[letter].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _accepted_values(column, language: str) -> str:
    if column.key in CHOICES:
        return ", ".join(label(column.key, value, language) for value in CHOICES[column.key][0].values if value)
    if column.key == "closure_reason":
        return ", ".join(
            (reason.name_en or reason.name) if language == "en" else reason.name
            for reason in ClosureReason.objects.filter(active=True)
        )
    if column.key == "ethnicity":
        return _("the group's name (汉族) or its 2-digit code (01)")
    if column.kind == Kind.BOOL:
        return "是 / 否" if language != "en" else "Yes / No"
    if column.kind == Kind.DATE:
        return "2019-05-01"
    if column.kind == Kind.GRADE:
        return "1-9"
    return ""


# The monthly report ----------------------------------------------------------------------------------


class ReportNotReady(Exception):
    """The nightly totals for the report's days have not been computed yet."""


REPORT_DAY = 15  # provinces report the figures as of the 15th of each month


@dataclass(frozen=True)
class ReportPeriod:
    year: int
    month: int

    @property
    def day(self) -> datetime.date:
        return datetime.date(self.year, self.month, REPORT_DAY)

    @property
    def start(self) -> datetime.date:
        """The day after the previous report: the 16th of the month before."""
        previous = datetime.date(self.year, self.month, 1) - datetime.timedelta(days=1)
        return previous.replace(day=REPORT_DAY + 1)

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}"


def monthly_report_areas(area, period: ReportPeriod) -> list:
    """The report's areas (reports.selectors.Area): the area itself, then the areas it lists.

    The nation lists its provinces; a province or prefecture every county in it; a county group its member
    counties on the report's day; a county itself alone.
    """
    from reports.models import AreaLevel
    from reports.selectors import Area

    if area.level == AreaLevel.NATION:
        below = Division.objects.provinces()
    elif area.group is not None:
        below = area.group.counties_on(period.day)
    elif area.division.level != Level.COUNTY:
        below = Division.objects.within(area.division).filter(level=Level.COUNTY)
    else:
        below = Division.objects.none()
    return [area, *(Area.of_division(division) for division in below.order_by("code"))]


def monthly_report_rows(area, period: ReportPeriod) -> list[dict]:
    """The report's rows, read from the nightly totals (reports.selectors): one per area of
    `monthly_report_areas`, with the figures as of the 15th and what moved since the 16th of the month before.
    """
    from reports import selectors

    if not selectors.totals_cover(area, period.start, period.day):
        raise ReportNotReady(
            _("The totals from %(start)s to %(end)s are not available yet: they are computed each night.")
            % {"start": period.start, "end": period.day}
        )
    return [
        {
            "code": figures.area.division.code if figures.area.division else "",
            "name": figures.area.name,
            "open": figures.open_count,
            "new": figures.new_count,
            "returned": figures.returned_count,
            "closed": figures.closed_count,
            "poor": figures.open_poor,
            "reasons": figures.reasons,
        }
        for figures in selectors.period_figures(monthly_report_areas(area, period), period.start, period.day)
    ]


def monthly_report_workbook(area, period: ReportPeriod, *, language: str) -> bytes:
    """The month's figures (as of the 15th) for an area (reports.selectors.Area) and the areas it lists, as XLSX."""
    from .choices import Reason

    rows = monthly_report_rows(area, period)
    reasons = list(Reason)
    header = [
        _("Code"),
        _("Area"),
        _("Open on %(day)s") % {"day": period.day},
        _("New dropouts"),
        _("Returned"),
        _("Closed for another reason"),
        _("Open, registered-poor"),
        *[_("Open: %(reason)s") % {"reason": label("reason", reason, language)} for reason in reasons],
    ]
    body = [
        [
            row["code"],
            row["name"],
            row["open"],
            row["new"],
            row["returned"],
            row["closed"],
            row["poor"],
            *[row["reasons"][reason.value] for reason in reasons],
        ]
        for row in rows
    ]
    caption = _("%(area)s, %(month)s: figures as of the 15th; new, returned and closed from %(start)s to %(end)s.") % {
        "area": area.name,
        "month": period,
        "start": period.start,
        "end": period.day,
    }
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(period)
    sheet.append([escape(caption)])  # it starts with the area's name, as the admin typed it
    sheet.append([escape(text) for text in header])
    for cell in sheet[2]:
        cell.font = BOLD
        cell.fill = HEADER_FILL
    for values in body:
        sheet.append([escape(value) for value in values])
    sheet.column_dimensions["B"].width = 18
    sheet.freeze_panes = "C3"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
