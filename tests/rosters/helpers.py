"""Comparisons made as a county official makes them: rosters uploaded, the task run once the upload commits."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from rosters import services
from rosters.generated import GeneratedCounty, generated_county
from rosters.models import RosterComparison
from students.choices import Reason
from students.services import StudentData, case_open
from tests.factories import make_id_number

AS_OF = timezone.localdate() - datetime.timedelta(days=3)


def open_cases_in(school, *, flagged: int = 2, unflagged: int = 2) -> list:
    """Open cases of the school's county, their children flagged registered-poor or not, through the service."""
    cases = []
    for n in range(flagged + unflagged):
        born = datetime.date(AS_OF.year - 12, 1 + n % 12, 1 + n)
        student = StudentData(
            name=f"陈案{'一二三四五六七八'[n]}",
            gender="M" if n % 2 else "F",
            birth_date=born,
            id_number=make_id_number(school.county.code, born, 2 * n + (1 if n % 2 else 0)),
            registered_poor=n < flagged,
        )
        cases.append(case_open(student=student, school=school, grade=5, dropout_date=AS_OF, reason=Reason.POVERTY))
    return cases


def county(area, *, children: int = 60, open_cases=()) -> GeneratedCounty:
    return generated_county(
        county_code=area["county"].code,
        school_codes=[area["school"].code, area["other_school"].code],
        children=children,
        as_of=AS_OF,
        open_cases=list(open_cases),
    )


def compare(generated: GeneratedCounty, county, user, capture, *, kinds=None) -> RosterComparison:
    """Upload the rosters (all four, or `kinds`) and run the comparison as the queue would, once committed."""
    files = {
        kind: SimpleUploadedFile(f"{kind}.csv", generated.csv_bytes(kind)) for kind in (kinds or generated.rosters)
    }
    with capture(execute=True):
        comparison = services.comparison_start(county=county, as_of=AS_OF, files=files, user=user, language="en")
    comparison.refresh_from_db()
    return comparison
