"""The totals runs page for administrators: every run with its outcome, a button to start one, live progress.

Only administrators reach these views: reports.urls routes them through counties.roles.requires_role.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from counties.roles import may_open
from students.ledger_chain import latest_verification

from .models import RunStatus, TotalsRun
from .services import runs
from .tasks import run_send

RUNS_SHOWN = 50


def can_manage_totals(user) -> bool:
    """Whether to show the user a link to the runs page: the roles its URL declares (reports.urls)."""
    return may_open(user, "reports:runs")


@login_required
@require_GET
def run_list(request):
    recent = list(TotalsRun.objects.select_related("requested_by")[:RUNS_SHOWN])
    last_finished = next((run for run in recent if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED)), None)
    verification, broken_links = latest_verification()
    return render(
        request,
        "reports/runs.html",
        {
            "runs": recent,
            "active": runs.active_run(),
            "last_failed": last_finished if last_finished and last_finished.status == RunStatus.FAILED else None,
            "verification": verification,
            "broken_links": broken_links,
        },
    )


@login_required
@require_POST
def run_start(request):
    """Request a run of every day changed since the last one and send it to the queue.

    When the queue cannot be reached the run stays recorded and the user is told it starts when the queue is
    back: the sweep (reports.tasks.sweep_totals_runs) sends it then."""
    active = runs.active_run()
    if active is not None:
        messages.warning(request, _("A run is already in progress."))
        return redirect("reports:runs")
    with transaction.atomic():
        run = runs.run_request(trigger=runs.Trigger.WEB, user=request.user)
    # Sent once the run is committed, so the worker finds it; a queue that is down is known within a second.
    if run_send(run.pk):
        messages.success(request, _("Run %(id)s requested.") % {"id": run.pk})
    else:
        messages.warning(
            request,
            _("Run %(id)s is recorded, but the task queue cannot be reached: it will start when the queue is back.")
            % {"id": run.pk},
        )
    return redirect("reports:runs")


@login_required
@require_GET
def run_status(request, pk: int):
    """The run's progress, polled by the runs page while it is in progress."""
    run = get_object_or_404(TotalsRun, pk=pk)
    return JsonResponse(
        {
            "id": run.pk,
            "status": run.status,
            "status_display": run.get_status_display(),
            "progress": run.progress,
            "steps_done": run.steps_done,
            "steps_total": run.steps_total,
            "from_day": run.from_day.isoformat() if run.from_day else None,
            "to_day": run.to_day.isoformat() if run.to_day else None,
            "days_written": run.days_written,
            "rows_written": run.rows_written,
            "message": run.message,
            "error": run.error,
            "finished": not run.is_active,
        }
    )
