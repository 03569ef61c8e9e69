"""Roster comparisons (四查三比对): a county's rosters, the run that compares them, and the candidates it lists.

A comparison is one run over the rosters a county official uploaded (rosters.services); it keeps its counts and
its candidates. The rosters' rows are staged in RosterRow only while the run compares them (rosters.comparing),
then removed: what stays is each candidate with the roster row it came from and why it was listed.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from counties.models import Division, Level
from students.choices import Gender
from students.models import DropoutCase, JobStatus, Student


class RosterKind(models.TextChoices):
    HOUSEHOLD = "household", _("Household register: children of compulsory-school age")
    REGISTRY = "registry", _("Student registry: children enrolled")
    ATTENDANCE = "attendance", _("Attendance: children actually in class")
    POOR = "poor", _("Registered-poor households (建档立卡)")


class CandidateGroup(models.TextChoices):
    NEVER_ENROLLED = "never_enrolled", _("Of school age and in no registry: possibly never enrolled")
    DROPPED_OUT = "dropped_out", _("In the registry and not attending: possibly dropped out")
    POOR_NOT_FLAGGED = "poor_not_flagged", _("Open case, in the poor-household roster but not flagged")
    FLAGGED_NOT_POOR = "flagged_not_poor", _("Open case flagged as poor, in no row of the poor-household roster")


class CandidateStatus(models.TextChoices):
    OPEN = "open", _("To decide")
    CASE_OPENED = "case_opened", _("Case opened")
    DISMISSED = "dismissed", _("Dismissed")
    FLAG_SET = "flag_set", _("Flag set as the roster says")


class DismissReason(models.TextChoices):
    MOVED_AWAY = "moved_away", _("Moved away")
    HOME_SCHOOLED = "home_schooled", _("Home-schooled with approval")
    DECEASED = "deceased", _("Deceased")
    WRONG_RECORD = "wrong_record", _("Wrong record")


class MatchedBy(models.TextChoices):
    ID_NUMBER = "id_number", _("resident ID number")
    REGISTRY_NUMBER = "registry_number", _("student registry number")
    NAME = "name", _("name, birth date and gender")


class RosterComparison(models.Model):
    """One comparison of a county's rosters, run by Celery (rosters.tasks), with its progress and counts."""

    county = models.ForeignKey(
        Division,
        models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Level.COUNTY},
        verbose_name=_("county"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("started by")
    )
    as_of = models.DateField(_("attendance as of"))
    status = models.CharField(_("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent to the queue at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of its worker"), null=True, blank=True)

    class Meta:
        verbose_name = _("roster comparison")
        verbose_name_plural = _("roster comparisons")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["county", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.county} · {self.as_of:%Y-%m-%d} · #{self.pk}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("rosters:comparison-detail", args=[self.pk])

    @property
    def status_label(self) -> str:
        if self.status == JobStatus.QUEUED and self.sent_at is None:
            return str(_("Waiting for the task queue, which cannot be reached: the job starts when it is back"))
        if self.status == JobStatus.SUCCEEDED and self.counts.get("problems"):
            return str(_("The rosters have problems: nothing was compared"))
        return self.get_status_display()

    @property
    def candidate_total(self) -> int:
        return sum((self.counts.get("candidates") or {}).values())

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)


class RosterUpload(models.Model):
    """One roster file of a comparison, and the problems its rows have (as the ledger import reports them)."""

    comparison = models.ForeignKey(
        RosterComparison, models.CASCADE, related_name="uploads", verbose_name=_("comparison")
    )
    kind = models.CharField(_("roster"), max_length=12, choices=RosterKind.choices)
    file = models.FileField(_("file"), upload_to="rosters/%Y/%m/")
    filename = models.CharField(_("file name"), max_length=200)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    encoding = models.CharField(_("text encoding"), max_length=20, blank=True)
    problems = models.JSONField(_("problems found"), default=list, blank=True)

    class Meta:
        verbose_name = _("roster file")
        verbose_name_plural = _("roster files")
        ordering = ["comparison", "kind"]
        constraints = [models.UniqueConstraint(fields=["comparison", "kind"], name="one_roster_of_a_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.filename}"


class RosterRow(models.Model):
    """A row of a roster, or a child of the county's open cases (kind "ledger"), staged while a run compares them.

    Written with COPY and read by the comparison's joins (rosters.comparing); removed when the run ends. Missing
    identifiers are NULL, so that two missing ones never match. `name_key` is the name as it sounds
    (students.duplicates.name_key), for matching by name, birth date and gender.
    """

    comparison = models.ForeignKey(RosterComparison, models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12)
    row = models.PositiveIntegerField()
    name = models.CharField(max_length=50, blank=True)
    name_key = models.CharField(max_length=200, blank=True)
    gender = models.CharField(max_length=1, blank=True)
    birth_date = models.DateField(null=True)
    id_number = models.CharField(max_length=18, null=True)
    registry_number = models.CharField(max_length=19, null=True)
    address = models.CharField(max_length=200, blank=True)
    school_code = models.CharField(max_length=20, blank=True)
    grade = models.PositiveSmallIntegerField(null=True)
    student_id = models.IntegerField(null=True)
    case_id = models.IntegerField(null=True)
    registered_poor = models.BooleanField(null=True)

    class Meta:
        # The comparison reads a run's rows whole, kind by kind, with hash joins: one index finds them; more would
        # only slow the COPY down.
        indexes = [models.Index(fields=["comparison", "kind"], name="rosterrow_comparison")]

    def __str__(self) -> str:
        return f"{self.kind} · {self.row}"


class Candidate(models.Model):
    """A child a comparison lists, why, and what the county decided.

    The child's details are the roster's (for a new child) or the ledger's (for an open case); they are shown
    only through the disclosure rule (students.disclosure), like every child's data.
    """

    comparison = models.ForeignKey(
        RosterComparison, models.CASCADE, related_name="candidates", verbose_name=_("comparison")
    )
    group = models.CharField(_("group"), max_length=20, choices=CandidateGroup.choices)
    status = models.CharField(_("status"), max_length=12, choices=CandidateStatus.choices, default=CandidateStatus.OPEN)
    source_kind = models.CharField(_("listed from"), max_length=12, choices=RosterKind.choices, blank=True)
    source_row = models.PositiveIntegerField(_("row"), null=True, blank=True)
    matched_by = models.CharField(_("matched by"), max_length=16, choices=MatchedBy.choices, blank=True)
    matched_row = models.PositiveIntegerField(_("matched row"), null=True, blank=True)
    name = models.CharField(_("name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    id_number = models.CharField(_("resident ID number"), max_length=18, blank=True)
    registry_number = models.CharField(_("student registry number"), max_length=19, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    school_code = models.CharField(_("school code"), max_length=20, blank=True)
    grade = models.PositiveSmallIntegerField(_("grade"), null=True, blank=True)
    student = models.ForeignKey(
        Student, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("student")
    )
    case = models.ForeignKey(
        DropoutCase, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("case")
    )
    dismiss_reason = models.CharField(_("reason"), max_length=14, choices=DismissReason.choices, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("roster candidate")
        verbose_name_plural = _("roster candidates")
        ordering = ["group", "source_row", "pk"]
        indexes = [models.Index(fields=["comparison", "group", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="dismissed") | ~Q(dismiss_reason=""), name="dismissed_candidate_has_a_reason"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_group_display()} · #{self.pk}"

    def why(self, as_of) -> str:
        """Why the comparison listed this candidate, in the user's language."""
        if self.group == CandidateGroup.NEVER_ENROLLED:
            text = _(
                "Row %(row)s of the household register, of school age; in no row of the student registry roster (by "
                "ID number, registry number, or name, birth date and gender) and with no open case on the ledger."
            )
        elif self.group == CandidateGroup.DROPPED_OUT:
            text = _(
                "Row %(row)s of the student registry roster; in no row of the attendance roster of %(date)s and with "
                "no open case on the ledger."
            )
        elif self.group == CandidateGroup.POOR_NOT_FLAGGED:
            text = _(
                "Open case; row %(row)s of the poor-household roster, matched by %(how)s; the child is not flagged as "
                "registered-poor."
            )
        else:
            text = _("Open case flagged as registered-poor; in no row of the poor-household roster.")
        how = MatchedBy(self.matched_by).label if self.matched_by else ""
        return text % {"row": self.source_row, "date": f"{as_of:%Y-%m-%d}", "how": how}

    # The disclosure rule reads a child's details by these names (students.disclosure.Disclosure.child).
    hukou_place = ""
    guardian_name = ""
    guardian_phone = ""
