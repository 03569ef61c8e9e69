"""Duplicate candidates: records the nightly search found to be probably one child, to decide on.

County officials and administrators see the open candidates touching their cases, each pair side by side with
why it was proposed, and decide "same child" (merge, keeping the record they choose) or "not the same child";
below, the recent merges, each of which can be undone. Principals and read-only roles have no such screen (403).
Candidates and merges are read through students.duplicates: another county's candidate is 404.

Each child is shown through the disclosure rule. A child with a case in the user's scope is shown as the user
sees their own children (county officials and administrators: in full, so that they can judge, and logged);
the other child of a pair across two counties is outside that scope and is shown as masked roles see any child,
with their county named, so that the user knows whom to ask.
"""

from dataclasses import dataclass, field

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..access import NOTHING, cases_visible_to
from ..disclosure import Child, Disclosure, disclosure_for, log_disclosure
from ..duplicates import candidates_visible_to, may_decide_duplicates, merges_visible_to, open_candidates
from ..merging import duplicate_decide_not_same, students_merge, students_merge_undo
from ..models import DisclosurePurpose, DropoutCase, DuplicateCandidate, Student, StudentMerge

PAGE_SIZE = 20
RECENT_MERGES = 20
# A child outside the user's scope, as the masked roles see any child.
MASKED = Disclosure(NOTHING)


@dataclass
class Side:
    """One record of a pair as this user may see it."""

    student: Student
    child: Child
    counties: list[str] = field(default_factory=list)
    cases: list[DropoutCase] = field(default_factory=list)  # those in the user's scope


@dataclass
class Pair:
    candidate: DuplicateCandidate
    sides: list[Side]


class MergeForm(forms.Form):
    keep = forms.TypedChoiceField(coerce=int)

    def __init__(self, *args, candidate: DuplicateCandidate, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].choices = [(pk, pk) for pk in (candidate.first_id, candidate.second_id)]


def _require_screen(user) -> None:
    if not may_decide_duplicates(user):
        raise PermissionDenied(_("Duplicate records are decided by county officials and administrators."))


def _pairs(request, candidates: list[DuplicateCandidate]) -> tuple[list[Pair], int]:
    """The pairs as the user may see them, and how many children are shown in full."""
    students = {s.pk: s for c in candidates for s in (c.first, c.second)}
    cases = DropoutCase.objects.filter(student__in=students).select_related("county", "school").order_by("dropout_date")
    in_scope = set(cases_visible_to(request.user).filter(student__in=students).values_list("pk", flat=True))
    counties: dict[int, list[str]] = {pk: [] for pk in students}
    shown: dict[int, list[DropoutCase]] = {pk: [] for pk in students}
    for case in cases:
        if case.county.name not in counties[case.student_id]:
            counties[case.student_id].append(case.county.name)
        if case.pk in in_scope:
            shown[case.student_id].append(case)
    disclosure = disclosure_for(request.user)
    sides = {
        pk: Side(
            student=student,
            child=(disclosure if shown[pk] else MASKED).child(student),
            counties=counties[pk],
            cases=shown[pk],
        )
        for pk, student in students.items()
    }
    pairs = [Pair(c, [sides[c.first_id], sides[c.second_id]]) for c in candidates]
    return pairs, sum(1 for side in sides.values() if not side.child.masked)


def _merge_rows(request, merges: list[StudentMerge]) -> tuple[list[dict], int]:
    """The merges as the user may see them, and how many records are shown in full.

    The kept record holds the cases now, one of them in the user's scope. The merged record is shown in full
    only if it was the user's own (a case it brought is in their scope): merging a child of another county into
    one's own does not show that county's record.
    """
    moved = {pk for merge in merges for pk in merge.moved_cases}
    in_scope = set(cases_visible_to(request.user).filter(pk__in=moved).values_list("pk", flat=True))
    disclosure = disclosure_for(request.user)
    rows = []
    for merge in merges:
        own = any(pk in in_scope for pk in merge.moved_cases)
        rows.append(
            {
                "merge": merge,
                "kept": disclosure.child(merge.kept),
                "merged": (disclosure if own else MASKED).child(merge.merged),
            }
        )
    shown = sum(1 for row in rows for key in ("kept", "merged") if not row[key].masked)
    return rows, shown


def _log(request, children: int) -> None:
    if children:
        log_disclosure(
            request.user, purpose=DisclosurePurpose.CASE_PAGE, children=children, detail=_("Duplicate records")
        )


@login_required
def duplicates(request):
    _require_screen(request.user)
    queryset = (
        open_candidates(candidates_visible_to(request.user))
        .select_related("first", "second")
        .order_by("-found_at", "-pk")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    pairs, children = _pairs(request, list(page.object_list))
    merges = list(
        merges_visible_to(request.user)
        .filter(undone_at__isnull=True)
        .select_related("kept", "merged", "merged_by")
        .order_by("-merged_at", "-pk")[:RECENT_MERGES]
    )
    merge_rows, merged_children = _merge_rows(request, merges)
    _log(request, children + merged_children)
    return render(request, "students/duplicates.html", {"page": page, "pairs": pairs, "merges": merge_rows})


def _candidate_for(user, pk: int) -> DuplicateCandidate:
    """The candidate, or 404 when neither child has a case in the user's write scope."""
    return get_object_or_404(candidates_visible_to(user).select_related("first", "second"), pk=pk)


@login_required
def duplicate_detail(request, pk: int):
    candidate = _candidate_for(request.user, pk)
    pairs, children = _pairs(request, [candidate])
    _log(request, children)
    return render(request, "students/duplicates_candidate.html", {"pair": pairs[0]})


@login_required
@require_POST
def duplicate_merge(request, pk: int):
    candidate = _candidate_for(request.user, pk)
    form = MergeForm(request.POST, candidate=candidate)
    if not form.is_valid():
        messages.error(request, _("Choose which of the two records to keep."))
        return redirect("students:duplicate-detail", candidate.pk)
    kept = candidate.first if form.cleaned_data["keep"] == candidate.first_id else candidate.second
    try:
        students_merge(candidate=candidate, kept=kept, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("students:duplicate-detail", candidate.pk)
    messages.success(request, _("The records were merged. The merge can be undone below."))
    return redirect("students:duplicates")


@login_required
@require_POST
def duplicate_not_same(request, pk: int):
    candidate = _candidate_for(request.user, pk)
    try:
        duplicate_decide_not_same(candidate=candidate, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("students:duplicate-detail", candidate.pk)
    messages.success(request, _("Recorded as two children: the pair will not be proposed again."))
    return redirect("students:duplicates")


@login_required
@require_POST
def merge_undo(request, pk: int):
    merge = get_object_or_404(merges_visible_to(request.user), pk=pk)
    try:
        students_merge_undo(merge=merge, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The merge was undone: both records are as they were, and the pair is open again."))
    return redirect("students:duplicates")
