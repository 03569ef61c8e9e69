"""Comparing a county's rosters: the list of comparisons, the upload, a comparison's page and its progress.

Who sees what is decided by rosters.selectors (the scoping rule); every child shown is taken from the disclosure
rule (students.disclosure), and a page that shows children's full identifiers is logged.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from students.disclosure import HIDDEN, disclosure_for, log_disclosure
from students.forms import add_service_errors
from students.models import DisclosurePurpose, JobStatus
from students.views.paging import page_from, pager

from .. import services
from ..forms import ComparisonForm, DismissForm, OpenCasesForm
from ..models import CandidateGroup, CandidateStatus, RosterComparison
from ..selectors import comparison_for_user, comparisons_visible_to, counties_for_comparison, may_compare
from ..tasks import comparison_as_it_stands

PER_PAGE = 100
LISTED = 20


@login_required
@require_GET
def comparison_list(request):
    counties = counties_for_comparison(request.user)
    if not counties.exists():
        raise Http404
    comparisons = comparisons_visible_to(request.user).select_related("county", "requested_by")
    page = page_from(request, comparisons.order_by("-created_at", "-pk"), per_page=LISTED, rows=comparisons)
    own = [county for county in counties.order_by("code")[:2] if may_compare(request.user, county)]
    return render(
        request,
        "rosters/comparison_list.html",
        {"comparisons": page.object_list, "pager": pager(request, page), "own_counties": own},
    )


@login_required
@require_http_methods(["GET", "POST"])
def comparison_new(request, county_code: str):
    county = get_object_or_404(counties_for_comparison(request.user), code=county_code)
    if not may_compare(request.user, county):
        raise PermissionDenied(_("Only the county's officials and administrators compare its rosters."))
    form = ComparisonForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            comparison = services.comparison_start(
                county=county,
                as_of=form.cleaned_data["as_of"],
                files=form.rosters(),
                user=request.user,
                language=get_language(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect(comparison)
    return render(request, "rosters/comparison_new.html", {"county": county, "form": form})


def _group_shown(request, comparison: RosterComparison) -> str:
    wanted = request.GET.get("group")
    if wanted in CandidateGroup.values:
        return wanted
    found = comparison.counts.get("candidates") or {}
    return next((group for group in CandidateGroup.values if found.get(group)), CandidateGroup.NEVER_ENROLLED)


def candidate_rows(disclosure, candidates, as_of) -> list[dict]:
    """Each candidate as the user may see the child, and why it was listed."""
    return [
        {"candidate": candidate, "child": disclosure.child(candidate), "why": candidate.why(as_of)}
        for candidate in candidates
    ]


@login_required
@require_GET
def comparison_detail(request, pk: int):
    comparison = comparison_as_it_stands(comparison_for_user(request.user, pk))
    return render_comparison(request, comparison)


def render_comparison(request, comparison: RosterComparison, *, open_form=None, errors=None):
    """The comparison's page, with the forms as the user sent them when an action was refused."""
    disclosure = disclosure_for(request.user)
    group = _group_shown(request, comparison)
    decided = request.GET.get("decided") == "1"
    candidates = comparison.candidates.filter(group=group)
    candidates = (
        candidates.exclude(status=CandidateStatus.OPEN) if decided else candidates.filter(status=CandidateStatus.OPEN)
    )
    page = page_from(request, candidates.order_by("source_row", "pk"), per_page=PER_PAGE, rows=candidates)
    rows = candidate_rows(disclosure, page.object_list, comparison.as_of)
    acts = may_compare(request.user, comparison.county) and comparison.status == JobStatus.SUCCEEDED
    if open_form is None and acts:
        open_form = OpenCasesForm(
            initial={"dropout_date": comparison.as_of},
            choices=[],
            schools=comparison.county.schools.order_by("name"),
        )
    shown = sum(1 for row in rows if not row["child"].masked)
    if shown:
        detail = _("Roster comparison #%(number)s") % {"number": comparison.pk}
        log_disclosure(request.user, purpose=DisclosurePurpose.CASE_PAGE, children=shown, detail=detail)
    found = comparison.counts.get("candidates") or {}
    return render(
        request,
        "rosters/comparison_detail.html",
        {
            "comparison": comparison,
            "uploads": [
                {"upload": upload, "problems": _problems_as_seen(disclosure, upload.problems[:PER_PAGE])}
                for upload in comparison.uploads.all()
            ],
            "error": disclosure.text(comparison.error),
            "groups": [(value, label, found.get(value)) for value, label in CandidateGroup.choices],
            "group": group,
            "group_label": CandidateGroup(group).label,
            "decided": decided,
            "rows": rows,
            "pager": pager(request, page, anchor="candidates"),
            "acts": acts,
            "opens_cases": acts and group in services.OPENS_CASES and not decided,
            "sets_flag": acts and group in services.SETS_FLAG and not decided,
            "open_form": open_form,
            "dismiss_form": DismissForm(),
            "errors": errors or {},
            "chosen": _chosen(open_form),
        },
    )


def _chosen(form) -> set[int]:
    """The candidates the user ticked, kept when their form is refused."""
    if form is None or not form.is_bound:
        return set()
    return {int(value) for value in form.data.getlist("candidates") if value.isdigit()}


def _problems_as_seen(disclosure, problems: list[dict]) -> list[dict]:
    """A roster's problems quote its cells, and no rule can say which child a cell names: masked roles see where
    each problem is, not what it says."""
    if not disclosure.masked:
        return problems
    withheld = _("(withheld: the county's officials can read it)")
    return [{**p, "value": HIDDEN if p.get("value") else "", "message": withheld} for p in problems]


@login_required
@require_GET
def comparison_status(request, pk: int):
    comparison = comparison_as_it_stands(comparison_for_user(request.user, pk))
    return JsonResponse(
        {
            "id": comparison.pk,
            "status": comparison.status,
            "status_label": comparison.status_label,
            "progress": comparison.progress,
            "counts": comparison.counts,
            "finished": comparison.finished,
            "error": disclosure_for(request.user).text(comparison.error),
        }
    )
