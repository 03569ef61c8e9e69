"""The demo's roster comparison: Rangtang County's rosters, generated around its open cases, compared once.

Called by the demo seed (students.demo.seed) after the working set is added, so that the comparison's screens
have something to show: a child never enrolled, two children of the registry not attending, and an open case in
the poor-household roster but not flagged. A county whose comparisons already list candidates gets no other.
"""

import datetime

from django.core.files.base import ContentFile
from django.utils import timezone

from counties.models import Division, Level, User
from students.choices import OPEN_STATUSES
from students.demo.places import RANGTANG
from students.models import DropoutCase, JobStatus

from .generated import generated_county
from .models import Candidate, RosterComparison, RosterKind, RosterUpload
from .services import comparison_run

DEMO_CHILDREN = 400
DEMO_OPEN_CASES = 12
DEMO_COUNTY_USER = "demo-rangtang"


def demo_rosters_add(*, seed: int, today: datetime.date, progress=None) -> int:
    """Compare generated rosters of Rangtang County as its demo official; how many candidates (0: none added)."""
    rangtang = Division.objects.filter(code=RANGTANG, level=Level.COUNTY).first()
    if rangtang is None or Candidate.objects.filter(comparison__county=rangtang).exists():
        return 0
    cases = list(
        DropoutCase.objects.filter(county=rangtang, status__in=OPEN_STATUSES)
        .select_related("student", "school")
        .order_by("pk")[:DEMO_OPEN_CASES]
    )
    as_of = today - datetime.timedelta(days=1)
    generated = generated_county(
        county_code=RANGTANG,
        school_codes=list(rangtang.schools.order_by("code").values_list("code", flat=True)),
        children=DEMO_CHILDREN,
        as_of=as_of,
        seed=seed,
        open_cases=cases,
    )
    generated.rosters[RosterKind.ATTENDANCE].pop(0)  # a second child of the registry missing from class
    comparison = RosterComparison.objects.create(
        county=rangtang,
        requested_by=User.objects.filter(username=DEMO_COUNTY_USER).first(),
        as_of=as_of,
        params={"language": "zh-hans"},
        status=JobStatus.RUNNING,
        started_at=timezone.now(),
    )
    for kind in generated.rosters:
        upload = RosterUpload(comparison=comparison, kind=kind, filename=f"{kind}.csv")
        upload.file.save(f"{kind}.csv", ContentFile(generated.csv_bytes(kind)), save=False)
        upload.save()
    comparison_run(comparison)
    comparison.status, comparison.progress, comparison.finished_at = JobStatus.SUCCEEDED, 100, timezone.now()
    comparison.save(update_fields=["status", "progress", "counts", "finished_at"])
    if progress is not None:
        progress(f"roster comparison of Rangtang ({comparison.candidate_total} candidates)", 1, 1)
    return comparison.candidate_total
