"""Stored daily totals, computed each night from the case events, and the record of each run.

Dashboards read only these tables: a page view never aggregates the live ledger.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from counties.models import CountyGroup, Division
from students.choices import Reason


class AreaLevel(models.TextChoices):
    NATION = "nation", _("Nation")
    PROVINCE = "province", _("Province")
    PREFECTURE = "prefecture", _("Prefecture")
    COUNTY = "county", _("County")
    GROUP = "group", _("County group")


# Open cases broken down by reason: one column per reason, named open_reason_<value>.
REASON_COLUMNS = {reason.value: f"open_reason_{reason.value}" for reason in Reason}


class DailyTotal(models.Model):
    """The ledger's figures for one area on one day (as of the end of that day).

    Exactly one of `division` (nation: neither) and `group` is set, matching `level`.

    Which rows exist (reports.totals writes them; see its docstring):
    - nation, province and group rows: one for every day from the ledger's baseline date to the day
      of the last run, zeros included, so a series of these areas never has gaps;
    - prefecture and county rows: only for days on which the area had an open case or any new
      dropout, return or closure. A missing county or prefecture row means every count is zero
      that day; the area's `baseline_open` is on its row for the baseline date.
    `baseline_open` is the area's open count at the end of the baseline date (for a group: of the
    counties that are members on `day`).
    """

    day = models.DateField(_("day"))
    level = models.CharField(_("level"), max_length=10, choices=AreaLevel.choices)
    division = models.ForeignKey(Division, models.CASCADE, null=True, blank=True, related_name="+")
    group = models.ForeignKey(CountyGroup, models.CASCADE, null=True, blank=True, related_name="+")

    open_count = models.IntegerField(_("open"), default=0)
    new_count = models.IntegerField(_("new dropouts"), default=0)
    returned_count = models.IntegerField(_("returned"), default=0)
    closed_count = models.IntegerField(_("other closures"), default=0)
    baseline_open = models.IntegerField(_("open at baseline"), default=0)

    open_male = models.IntegerField(default=0)
    open_female = models.IntegerField(default=0)
    open_primary = models.IntegerField(_("open, grades 1-6"), default=0)
    open_junior = models.IntegerField(_("open, grades 7-9"), default=0)
    open_poor = models.IntegerField(_("open, registered-poor"), default=0)
    open_left_behind = models.IntegerField(_("open, left-behind"), default=0)
    open_disabled = models.IntegerField(_("open, with disability"), default=0)

    open_reason_learning = models.IntegerField(default=0)
    open_reason_poverty = models.IntegerField(default=0)
    open_reason_distance = models.IntegerField(default=0)
    open_reason_work = models.IntegerField(default=0)
    open_reason_marriage = models.IntegerField(default=0)
    open_reason_religion = models.IntegerField(default=0)
    open_reason_illness = models.IntegerField(default=0)
    open_reason_other = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("daily total")
        verbose_name_plural = _("daily totals")
        constraints = [
            models.UniqueConstraint(
                fields=["level", "day"], condition=Q(level="nation"), name="dailytotal_one_nation_row"
            ),
            models.UniqueConstraint(
                fields=["division", "day"], condition=Q(division__isnull=False), name="dailytotal_one_division_row"
            ),
            models.UniqueConstraint(
                fields=["group", "day"], condition=Q(group__isnull=False), name="dailytotal_one_group_row"
            ),
        ]
        indexes = [models.Index(fields=["level", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.division or self.group or _('Nation')}: {self.open_count}"

    @property
    def decrease(self) -> int:
        return self.baseline_open - self.open_count

    @property
    def decrease_percent(self) -> float | None:
        if not self.baseline_open:
            return None
        return 100.0 * self.decrease / self.baseline_open


# Every stored figure of a DailyTotal, in table order: the columns a totals run computes.
FIGURE_COLUMNS = (
    "open_count",
    "new_count",
    "returned_count",
    "closed_count",
    "baseline_open",
    "open_male",
    "open_female",
    "open_primary",
    "open_junior",
    "open_poor",
    "open_left_behind",
    "open_disabled",
    *REASON_COLUMNS.values(),
)


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class TotalsRun(models.Model):
    """One computation of the totals: nightly, started by an administrator, or a backfill."""

    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    trigger = models.CharField(_("started by"), max_length=20, default="nightly")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    from_day = models.DateField(_("from"), null=True, blank=True)
    to_day = models.DateField(_("to"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    days_written = models.IntegerField(_("days written"), default=0)
    rows_written = models.IntegerField(_("rows written"), default=0)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    steps_total = models.PositiveIntegerField(_("steps"), default=0)
    steps_done = models.PositiveIntegerField(_("steps done"), default=0)
    baseline_date = models.DateField(_("baseline date"), null=True, blank=True)
    staged_steps = models.JSONField(
        _("steps staged"), default=list, blank=True, help_text=_("The provinces whose county rows are staged.")
    )
    catch_up = models.BooleanField(
        _("covers every change"),
        default=False,
        help_text=_(
            "The run recomputed every day touched since the previous such run; the next run looks for "
            "changes recorded after this one started."
        ),
    )
    message = models.TextField(_("message"), blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Fencing (reports.services.runs.superseding_run): every publication is numbered in the order it happened,
    # and a run remembers the last number when it began, so a run whose days a newer one has published since
    # cannot publish its older figures over them.
    generation = models.PositiveBigIntegerField(
        _("publication number"), null=True, blank=True, unique=True, help_text=_("Set when the run publishes.")
    )
    # Written every few seconds while a worker works on the run (reports.services.runs.keep_alive): a run that
    # stops beating was lost with its worker.
    heartbeat_at = models.DateTimeField(_("last sign of its worker"), null=True, blank=True)
    # When the run was last handed to the task queue (reports.tasks.run_send); empty while the queue was unreachable.
    sent_at = models.DateTimeField(_("sent to the queue at"), null=True, blank=True)
    seen_generation = models.PositiveBigIntegerField(
        _("last publication when begun"), default=0, help_text=_("The publication number when the run began.")
    )

    class Meta:
        verbose_name = _("totals run")
        verbose_name_plural = _("totals runs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_status_display()}"

    @property
    def is_active(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class StagedTotal(models.Model):
    """A row computed by a run that is not published yet (an unlogged work table, see migration 0002).

    Province tasks write their county rows here; the run's last step rolls them up and publishes
    them into DailyTotal in one transaction, then deletes them. Not read by anything else.
    """

    run_id = models.BigIntegerField()
    level = models.CharField(max_length=10, choices=AreaLevel.choices)
    division_id = models.BigIntegerField(null=True)
    group_id = models.BigIntegerField(null=True)
    day = models.DateField()

    open_count = models.IntegerField(default=0)
    new_count = models.IntegerField(default=0)
    returned_count = models.IntegerField(default=0)
    closed_count = models.IntegerField(default=0)
    baseline_open = models.IntegerField(default=0)
    open_male = models.IntegerField(default=0)
    open_female = models.IntegerField(default=0)
    open_primary = models.IntegerField(default=0)
    open_junior = models.IntegerField(default=0)
    open_poor = models.IntegerField(default=0)
    open_left_behind = models.IntegerField(default=0)
    open_disabled = models.IntegerField(default=0)
    open_reason_learning = models.IntegerField(default=0)
    open_reason_poverty = models.IntegerField(default=0)
    open_reason_distance = models.IntegerField(default=0)
    open_reason_work = models.IntegerField(default=0)
    open_reason_marriage = models.IntegerField(default=0)
    open_reason_religion = models.IntegerField(default=0)
    open_reason_illness = models.IntegerField(default=0)
    open_reason_other = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("staged total")
        verbose_name_plural = _("staged totals")
        indexes = [models.Index(fields=["run_id", "level", "day"], name="stagedtotal_run_level_day")]

    def __str__(self) -> str:
        return f"run {self.run_id} · {self.level} · {self.day}"


class PublishedMembership(models.Model):
    """The county-group memberships the published group totals were computed with.

    Memberships carry no change timestamps, so each run compares the current memberships with this
    copy to find which days of the group totals a membership change made stale.
    """

    group = models.ForeignKey(CountyGroup, models.CASCADE, related_name="+")
    county = models.ForeignKey(Division, models.CASCADE, related_name="+")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("published county-group membership")
        verbose_name_plural = _("published county-group memberships")

    def __str__(self) -> str:
        return f"{self.group_id} · {self.county_id} · {self.valid_from}"


class SignOffStatus(models.TextChoices):
    """Where a county's month is in its sign-off (reports.services.signoff)."""

    SIGNED = "signed", _("Signed by the county")
    PREFECTURE_ACCEPTED = "prefecture_accepted", _("Accepted by the prefecture")
    ACCEPTED = "accepted", _("Accepted by the province")
    SENT_BACK = "sent_back", _("Sent back to the county")


class SignOffAction(models.TextChoices):
    SIGN = "sign", _("Signed by the county")
    PREFECTURE_ACCEPT = "prefecture_accept", _("Accepted by the prefecture")
    PROVINCE_ACCEPT = "province_accept", _("Accepted by the province")
    SEND_BACK = "send_back", _("Sent back with a note")


class MonthSignOff(models.Model):
    """A county's figures for one calendar month, as its official signed them, and where their acceptance stands.

    `figures` are the month's figures as the dashboards computed them from the published totals when the county
    last signed (reports.selectors.period_figures: open, registered-poor and by reason at the end of the month;
    new dropouts, returns and other closures during it). They never change afterwards but by a new signature,
    after the month was sent back: a case event recorded later with an effective date in the month shows as a
    correction against them (reports.signoff.corrections). Every step is kept in `steps`, with who and when.
    """

    county = models.ForeignKey(Division, models.PROTECT, related_name="+", verbose_name=_("county"))
    month = models.DateField(_("month"), help_text=_("The first day of the month signed."))
    status = models.CharField(_("status"), max_length=20, choices=SignOffStatus.choices)
    figures = models.JSONField(_("signed figures"))
    signed_at = models.DateTimeField(_("signed at"))
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("signed by")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("monthly sign-off")
        verbose_name_plural = _("monthly sign-offs")
        constraints = [models.UniqueConstraint(fields=["county", "month"], name="one_sign_off_per_county_month")]
        indexes = [models.Index(fields=["month", "status"], name="signoff_month_status")]

    def __str__(self) -> str:
        return f"{self.county_id} · {self.month:%Y-%m} · {self.status}"


class SignOffStep(models.Model):
    """One step of a month's sign-off: a signature, an acceptance, or a return to the county with a note."""

    sign_off = models.ForeignKey(MonthSignOff, models.PROTECT, related_name="steps", verbose_name=_("sign-off"))
    action = models.CharField(_("step"), max_length=20, choices=SignOffAction.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)
    # The figures signed at this step (signatures only): a month signed again keeps what was signed before.
    figures = models.JSONField(_("figures signed"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-off step")
        verbose_name_plural = _("sign-off steps")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.sign_off_id} · {self.action} · {self.at:%Y-%m-%d %H:%M}"
