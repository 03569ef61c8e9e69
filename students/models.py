"""The ledger: children, their dropout episodes, the append-only history of each episode, and visits.

Writes go through students.services; reads of cases go through students.access.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from counties.models import Division, Level, School

from .choices import (
    ETHNICITY_CHOICES,
    OPEN_STATUSES,
    Disability,
    DuplicateKind,
    DuplicateStatus,
    Gender,
    HandoverReason,
    HandoverStatus,
    IdentitySource,
    LeftBehind,
    Line,
    Placement,
    Reason,
    ResponsibleRole,
    Status,
    VisitMethod,
    VisitOutcome,
    ethnicity_label,
    label_of,
)


class Student(models.Model):
    """A child, as registered in the household register and the student registry."""

    name = models.CharField(pgettext_lazy("a person's", "name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    ethnicity = models.CharField(_("ethnicity"), max_length=2, choices=ETHNICITY_CHOICES, default="01")
    birth_date = models.DateField(_("birth date"))
    id_number = models.CharField(_("resident ID number"), max_length=18, null=True, blank=True, unique=True)
    registry_number = models.CharField(_("student registry number"), max_length=19, null=True, blank=True, unique=True)
    hukou_place = models.CharField(_("household registration place"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    guardian_name = models.CharField(_("guardian name"), max_length=50, blank=True)
    guardian_phone = models.CharField(_("guardian phone"), max_length=20, blank=True)
    registered_poor = models.BooleanField(_("registered-poor household (建档立卡)"), default=False)
    left_behind = models.CharField(
        _("left-behind child"), max_length=4, choices=LeftBehind.choices, blank=True, default=LeftBehind.NO
    )
    migrant = models.BooleanField(_("migrant child (随迁子女)"), default=False)
    orphan = models.BooleanField(_("orphan"), default=False)
    unsupported = models.BooleanField(_("de-facto unsupported child"), default=False)
    disability = models.CharField(
        _("disability"), max_length=12, choices=Disability.choices, blank=True, default=Disability.NONE
    )
    # A duplicate record merged into another keeps its row, so that the merge can be undone.
    merged_into = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="+", editable=False, verbose_name=_("merged into")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("student")
        verbose_name_plural = _("students")
        indexes = [
            models.Index(fields=["name"]),
            # Prefix search on identifiers (LIKE 'x%') under a non-C collation needs pattern operators.
            models.Index(fields=["id_number"], opclasses=["varchar_pattern_ops"], name="student_id_number_prefix"),
            models.Index(fields=["registry_number"], opclasses=["varchar_pattern_ops"], name="student_registry_prefix"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def ethnicity_label(self) -> str:
        """The ethnic group's name in the page's language (get_ethnicity_display gives both languages)."""
        return ethnicity_label(self.ethnicity)


class ClosureReason(models.Model):
    """Why a case left the ledger without a return. Editable: the codes beyond 复学销号 are not fixed."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    is_exemption = models.BooleanField(
        _("exemption"),
        default=False,
        help_text=_("Physically unable to study, as assessed by the county's expert committee."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("closure reason")
        verbose_name_plural = _("closure reasons")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class CaseQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class DropoutCase(models.Model):
    """One dropout episode of one child. A child who drops out again gets a new case.

    `status`, `struck_off_on`, `returned_on`, `placement` and `closure_reason` summarise the case's
    events; only students.services writes them, in the same transaction as the event.
    """

    student = models.ForeignKey(Student, models.PROTECT, related_name="cases", verbose_name=_("student"))
    county = models.ForeignKey(
        Division,
        models.PROTECT,
        related_name="cases",
        limit_choices_to={"level": Level.COUNTY},
        verbose_name=_("county"),
    )
    school = models.ForeignKey(School, models.PROTECT, related_name="cases", verbose_name=_("school"))
    grade = models.PositiveSmallIntegerField(_("grade"), choices=[(g, g) for g in range(1, 10)])
    dropout_date = models.DateField(_("dropout date"))
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    reason_detail = models.CharField(_("reason in detail"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DROPPED_OUT, editable=False
    )
    struck_off_on = models.DateField(_("struck off on"), null=True, blank=True, editable=False)
    returned_on = models.DateField(_("returned on"), null=True, blank=True, editable=False)
    placement = models.CharField(_("placement"), max_length=16, choices=Placement.choices, blank=True, editable=False)
    closure_reason = models.ForeignKey(
        ClosureReason, models.PROTECT, null=True, blank=True, editable=False, verbose_name=_("closure reason")
    )
    previous_case = models.OneToOneField(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="relapse_case",
        editable=False,
        verbose_name=_("previous episode"),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("dropout case")
        verbose_name_plural = _("dropout cases")
        ordering = ["-dropout_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["student"], condition=Q(status__in=OPEN_STATUSES), name="one_open_case_per_student"
            ),
            models.CheckConstraint(
                condition=Q(struck_off_on__isnull=True) | Q(struck_off_on__gte=models.F("dropout_date")),
                name="struck_off_after_dropout",
            ),
        ]
        indexes = [
            models.Index(fields=["county", "status"]),
            models.Index(fields=["school", "status"]),
            models.Index(
                fields=["county", "reason"], condition=Q(status__in=OPEN_STATUSES), name="open_by_county_reason"
            ),
            models.Index(fields=["dropout_date"]),
            # A county's or a school's cases, newest first: the case list's default order.
            models.Index(fields=["county", "-dropout_date", "-id"], name="case_county_recent"),
            models.Index(fields=["school", "-dropout_date", "-id"], name="case_school_recent"),
            # A county's whole ledger for one reason, the list's most used filter: counted from the index alone.
            models.Index(fields=["county", "reason", "-dropout_date", "-id"], name="case_county_reason"),
            models.Index(fields=["struck_off_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.student} · {self.dropout_date:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("students:case-detail", args=[self.pk])

    # Django's own get_FOO_display() rebuilds a dict of the translated choices on each call, and a
    # page of the case list calls these a hundred times.
    def get_status_display(self):
        return label_of(Status, self.status)

    def get_reason_display(self):
        return label_of(Reason, self.reason)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class HashField(models.BinaryField):
    """A hash, read back as bytes (the database driver hands over a memoryview): comparable, printable, hashable."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else bytes(value)


class ChainedEntry(models.Model):
    """An entry of the ledger's history, chained to the entry before it (students.ledger_chain).

    The database writes these fields on insert, never the application: the entry's position in its chain (a
    case's events, a case's visits, a child's identity changes), the previous entry's hash (none for the first)
    and the SHA-256 of that hash and of the entry's content.
    """

    chain_position = models.PositiveIntegerField(_("position in the chain"), default=0, editable=False)
    previous_hash = HashField(_("previous entry's hash"), null=True, blank=True)
    entry_hash = HashField(_("hash"), default=b"")

    class Meta:
        abstract = True


class CaseEvent(ChainedEntry):
    """One change of a case's status. Append-only: the database refuses updates and deletes."""

    case = models.ForeignKey(DropoutCase, models.PROTECT, related_name="events", verbose_name=_("case"))
    from_status = models.CharField(_("from"), max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=Status.choices)
    effective_date = models.DateField(_("effective date"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True, db_index=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("recorded by")
    )
    placement = models.CharField(_("placement"), max_length=16, choices=Placement.choices, blank=True)
    closure_reason = models.ForeignKey(
        ClosureReason, models.PROTECT, null=True, blank=True, verbose_name=_("closure reason")
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["effective_date", "pk"]
        indexes = [
            models.Index(fields=["effective_date"]),
            # Retention checks per case, counted for the dashboards' "retention checks due".
            models.Index(fields=["case"], condition=Q(to_status=Status.RETAINED), name="retention_checks"),
        ]
        constraints = [models.UniqueConstraint(fields=["case", "chain_position"], name="one_event_per_chain_position")]

    def __str__(self) -> str:
        return f"{self.get_from_status_display() or '·'} → {self.get_to_status_display()}"


class PersuasionVisit(ChainedEntry):
    """One attempt to persuade a child back. `visitors` is a list of {"role": VisitorRole, "name": str}.

    Append-only, like the case's events: the database refuses updates and deletes.
    """

    case = models.ForeignKey(DropoutCase, models.PROTECT, related_name="visits", verbose_name=_("case"))
    visit_date = models.DateField(_("visit date"))
    visitors = models.JSONField(_("visitors"), default=list)
    method = models.CharField(_("method"), max_length=16, choices=VisitMethod.choices)
    outcome = models.CharField(_("outcome"), max_length=12, choices=VisitOutcome.choices)
    notes = models.TextField(_("notes"), blank=True)
    next_follow_up = models.DateField(_("next follow-up"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("recorded by")
    )

    class Meta:
        verbose_name = _("persuasion visit")
        verbose_name_plural = _("persuasion visits")
        ordering = ["-visit_date", "-pk"]
        indexes = [models.Index(fields=["case", "-visit_date"])]
        constraints = [models.UniqueConstraint(fields=["case", "chain_position"], name="one_visit_per_chain_position")]

    def __str__(self) -> str:
        return f"{self.visit_date:%Y-%m-%d} · {self.get_method_display()}"


class ResponsiblePerson(models.Model):
    """A person answerable for bringing the child back, on the government or the education line."""

    case = models.ForeignKey(DropoutCase, models.CASCADE, related_name="responsible_persons")
    line = models.CharField(_("line"), max_length=12, choices=Line.choices)
    role = models.CharField(_("role"), max_length=16, choices=ResponsibleRole.choices)
    name = models.CharField(pgettext_lazy("a person's", "name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("responsible person")
        verbose_name_plural = _("responsible persons")
        ordering = ["line", "role"]
        constraints = [models.UniqueConstraint(fields=["case", "role"], name="one_responsible_person_per_role")]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.name}"


class ResponsiblePersonChange(models.Model):
    """One change of a case's responsible persons: who, when, and each role's person before and after.

    `changes` maps a role to [old, new], each {"name", "phone"} or None (no one in that role). Append-only; shown
    in the case's history through the disclosure rule, so masked roles see family names and no phone.
    """

    case = models.ForeignKey(
        DropoutCase, models.PROTECT, related_name="responsible_person_changes", verbose_name=_("case")
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("changed by")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    changes = models.JSONField(_("changes"), default=dict)

    class Meta:
        verbose_name = _("change of responsible persons")
        verbose_name_plural = _("changes of responsible persons")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["case", "-at"])]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.at:%Y-%m-%d %H:%M}"


class JobKind(models.TextChoices):
    IMPORT = "import", _("Import")
    EXPORT = "export", _("Export")
    MONTHLY_REPORT = "monthly_report", _("Monthly report")


class LedgerCorrection(models.Model):
    """A write that changes a county's figures from `first_day` on (students.services.correction_record).

    Every write that moves the figures records one per county it touches: a case opened, a status
    change that strikes a case off or puts it back, a handover, a merge, an import, and details put
    right after the fact (a registered-poor household recorded late, a grade or a reason put right),
    which change every day their cases were on the ledger. The on-commit recompute
    (reports.services.touched) recomputes each county's days from `first_day` within a minute and
    stamps `recomputed_at`; the nightly run recomputes from the earliest `first_day` recorded since
    the last one, whatever the stamp. Rows from before counties were recorded have none.
    """

    first_day = models.DateField(_("first day affected"))
    county = models.ForeignKey(
        Division, models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("county")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True, db_index=True)
    recomputed_at = models.DateTimeField(_("recomputed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ledger correction")
        verbose_name_plural = _("ledger corrections")
        indexes = [
            models.Index(
                fields=["county"],
                condition=Q(recomputed_at__isnull=True, county__isnull=False),
                name="ledgercorrection_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_day:%Y-%m-%d} · {self.recorded_at:%Y-%m-%d %H:%M}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class LedgerJob(models.Model):
    """A long piece of ledger work run by Celery (import, export, report), with its progress and result."""

    kind = models.CharField(_("kind"), max_length=16, choices=JobKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    county = models.ForeignKey(
        Division, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("area")
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    input_file = models.FileField(_("uploaded file"), upload_to="jobs/in/%Y/%m/", blank=True)
    output_file = models.FileField(_("result file"), upload_to="jobs/out/%Y/%m/", blank=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    report = models.JSONField(_("problems found"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # When the job was last handed to the task queue (students.tasks.job_send); empty while it could not be.
    sent_at = models.DateTimeField(_("sent to the queue at"), null=True, blank=True)
    # Written every few seconds while a worker works on the job (dropout_ledger.heartbeat).
    heartbeat_at = models.DateTimeField(_("last sign of its worker"), null=True, blank=True)
    # Every problem a check found, one JSON object a line (students.import_problems): a report may hold a hundred
    # thousand problems, which `report` (read with the job) would carry into every page and progress poll.
    report_file = models.FileField(_("problem report"), upload_to="jobs/reports/%Y/%m/", blank=True)
    # The import a check's confirmation started: one at most per check, however often "Import now" is pressed.
    checked_by = models.OneToOneField(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="confirmed_import",
        verbose_name=_("the check it imports"),
    )

    class Meta:
        verbose_name = _("ledger job")
        verbose_name_plural = _("ledger jobs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status_label})"

    @property
    def status_label(self) -> str:
        """The status as the user reads it in a list: a check or an import that found problems in the file ran to
        its end, but did not succeed for its user, who has a file to correct."""
        if self.status == JobStatus.QUEUED and self.sent_at is None:
            return str(_("Waiting for the task queue, which cannot be reached: the job starts when it is back"))
        if self.kind != JobKind.IMPORT or self.status != JobStatus.SUCCEEDED:
            return self.get_status_display()
        dry_run = bool(self.params.get("dry_run"))
        if (self.counts or {}).get("problems"):
            return str(_("Check found problems") if dry_run else _("Import found problems: nothing imported"))
        return str(_("Check finished") if dry_run else _("Import finished"))


class ImportMapping(models.Model):
    """How a county's own spreadsheets name the fields and values (students.import_mapping): saved when an official
    confirms a check's mapping, offered to every later check of the county, seen and edited by its officials."""

    LEDGER = "ledger"

    county = models.ForeignKey(Division, models.CASCADE, related_name="+", verbose_name=_("county"))
    purpose = models.CharField(_("kind of file"), max_length=16, default=LEDGER)
    headings = models.JSONField(_("headings"), default=dict, blank=True)
    values = models.JSONField(_("values"), default=dict, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last changed by"),
    )
    updated_at = models.DateTimeField(_("last changed at"), auto_now=True)

    class Meta:
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")
        constraints = [models.UniqueConstraint(fields=["county", "purpose"], name="one_import_mapping_per_county")]

    def __str__(self) -> str:
        return f"{self.county} · {self.purpose}"


class DisclosurePurpose(models.TextChoices):
    CASE_PAGE = "case_detail", _("Case page")
    EXPORT = "export", _("Export")
    BACKGROUND_EXPORT = "export_job", _("Background export")
    PROBLEM_REPORT = "problem_report", _("Import problem report")
    ADMIN = "admin", _("Administration pages")


class IdentifierAccess(models.Model):
    """A record that someone saw children's unmasked identifiers: personal data of minors is logged.

    One row per disclosure: a case page names its case; a list, an export or a report says what it held
    (`detail`: the filter or the job) and how many children (`children`). It never holds an identifier.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("user"))
    case = models.ForeignKey(
        DropoutCase, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("case")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    purpose = models.CharField(
        _("what"), max_length=40, choices=DisclosurePurpose.choices, default=DisclosurePurpose.CASE_PAGE
    )
    children = models.PositiveIntegerField(_("children"), default=1)
    detail = models.CharField(_("detail"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("identifier access")
        verbose_name_plural = _("identifier accesses")
        ordering = ["-at"]
        indexes = [models.Index(fields=["case", "-at"]), models.Index(fields=["user", "-at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_purpose_display()} · {self.at:%Y-%m-%d %H:%M}"


class IdentityChange(ChainedEntry):
    """One change of a child's identity: who, when, why, and each field's old and new value.

    `changes` maps a field name to [old, new]. Append-only, like the case's history; it is shown on the
    case page through the disclosure rule, so masked roles see which fields changed, not the values.
    """

    student = models.ForeignKey(Student, models.PROTECT, related_name="identity_changes", verbose_name=_("student"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("changed by")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    source = models.CharField(_("why"), max_length=10, choices=IdentitySource.choices)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict)

    class Meta:
        verbose_name = _("identity change")
        verbose_name_plural = _("identity changes")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["student", "-at"])]
        constraints = [
            models.UniqueConstraint(fields=["student", "chain_position"], name="one_identity_change_per_chain_position")
        ]

    def __str__(self) -> str:
        return f"{self.student_id} · {self.get_source_display()} · {self.at:%Y-%m-%d %H:%M}"


class Handover(models.Model):
    """An open case handed from one county to another (转出/转入), across provinces too.

    Either side starts it; the other accepts or declines. On acceptance the case moves with its whole
    history to `to_county` (and `to_school`) from `handed_over_on`: the totals count the child in the old
    county before that day and in the new one from it (reports.services.sql).
    """

    case = models.ForeignKey(DropoutCase, models.PROTECT, related_name="handovers", verbose_name=_("case"))
    from_county = models.ForeignKey(
        Division, models.PROTECT, related_name="handovers_out", verbose_name=_("from county")
    )
    to_county = models.ForeignKey(Division, models.PROTECT, related_name="handovers_in", verbose_name=_("to county"))
    to_school = models.ForeignKey(
        School, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("receiving school")
    )
    requested_by_receiver = models.BooleanField(_("asked for by the receiving county"), default=False)
    reason = models.CharField(_("reason"), max_length=8, choices=HandoverReason.choices)
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=HandoverStatus.choices, default=HandoverStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("asked by")
    )
    requested_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    handed_over_on = models.DateField(_("handed over on"), null=True, blank=True)

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status=HandoverStatus.PENDING), name="one_pending_handover_per_case"
            ),
            models.CheckConstraint(condition=~Q(from_county=models.F("to_county")), name="handover_between_counties"),
            models.CheckConstraint(
                condition=~Q(status=HandoverStatus.ACCEPTED) | Q(handed_over_on__isnull=False),
                name="accepted_handover_has_a_date",
            ),
        ]
        indexes = [
            models.Index(fields=["from_county", "status"]),
            models.Index(fields=["to_county", "status"]),
            models.Index(
                fields=["case", "handed_over_on"],
                condition=Q(status=HandoverStatus.ACCEPTED),
                name="accepted_handovers",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.from_county_id} → {self.to_county_id} ({self.get_status_display()})"


class DuplicateCandidate(models.Model):
    """Two children who are probably one, found by the nightly duplicate search (students.duplicates).

    `first` has the smaller id. A decision is kept: "not the same child" is not proposed again, and
    "same child" points at the merge that joined them.
    """

    first = models.ForeignKey(Student, models.CASCADE, related_name="+", verbose_name=_("first child"))
    second = models.ForeignKey(Student, models.CASCADE, related_name="+", verbose_name=_("second child"))
    kind = models.CharField(_("why"), max_length=14, choices=DuplicateKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN)
    found_at = models.DateTimeField(_("found at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("duplicate candidate")
        verbose_name_plural = _("duplicate candidates")
        ordering = ["-found_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="one_candidate_per_pair"),
            models.CheckConstraint(condition=Q(first__lt=models.F("second")), name="candidate_pair_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.first_id} ~ {self.second_id} ({self.get_status_display()})"


class StudentMerge(models.Model):
    """Two records of one child joined: `merged`'s cases now belong to `kept`. Kept so it can be undone.

    `moved_cases` lists the ids of the cases moved; `kept_before` is `kept`'s identity before the merge.
    """

    kept = models.ForeignKey(Student, models.PROTECT, related_name="+", verbose_name=_("kept record"))
    merged = models.ForeignKey(Student, models.PROTECT, related_name="+", verbose_name=_("merged record"))
    candidate = models.ForeignKey(
        DuplicateCandidate, models.PROTECT, null=True, blank=True, related_name="merges", verbose_name=_("candidate")
    )
    moved_cases = models.JSONField(_("moved cases"), default=list)
    kept_before = models.JSONField(_("kept record before"), default=dict)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("merged by")
    )
    merged_at = models.DateTimeField(_("merged at"), auto_now_add=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("undone by")
    )
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)

    class Meta:
        verbose_name = _("merge of duplicates")
        verbose_name_plural = _("merges of duplicates")
        ordering = ["-merged_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.merged_id} → {self.kept_id}"


class VerificationTrigger(models.TextChoices):
    NIGHTLY = "nightly", pgettext_lazy("verification started", "nightly")
    COMMAND = "command", pgettext_lazy("verification started", "by command")


class LedgerVerification(models.Model):
    """One walk of the ledger's hash chains (students.ledger_chain): what it covered and what it found.

    `county` empty: every county. `since` set: the chains with an entry recorded from then on, each walked whole.
    `broken_links` names the first broken links found (students.ledger_chain.BROKEN_LINKS_KEPT of them: table, id,
    chain, position, county's code and name, problems), `broken_count` counts them all.
    """

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    trigger = models.CharField(_("started"), max_length=10, choices=VerificationTrigger.choices)
    county = models.ForeignKey(
        Division, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("county")
    )
    since = models.DateTimeField(_("entries recorded since"), null=True, blank=True)
    entries_checked = models.PositiveBigIntegerField(_("entries checked"), default=0)
    broken_count = models.PositiveIntegerField(_("broken links"), default=0)
    broken_links = models.JSONField(_("broken links found"), default=list, blank=True)
    ok = models.BooleanField(_("intact"), default=False)

    class Meta:
        verbose_name = _("ledger verification")
        verbose_name_plural = _("ledger verifications")
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} · {self.county or _('every county')}"


class CountyVerification(models.Model):
    """What one verification found in one county (the county holding each case, or each child)."""

    verification = models.ForeignKey(
        LedgerVerification, models.CASCADE, related_name="counties", verbose_name=_("verification")
    )
    county = models.ForeignKey(Division, models.PROTECT, related_name="+", verbose_name=_("county"))
    entries_checked = models.PositiveBigIntegerField(_("entries checked"), default=0)
    broken_count = models.PositiveIntegerField(_("broken links"), default=0)

    class Meta:
        verbose_name = _("verification of a county")
        verbose_name_plural = _("last verification per county")
        ordering = ["county__code"]
        constraints = [models.UniqueConstraint(fields=["verification", "county"], name="one_result_per_county")]
        indexes = [models.Index(fields=["county", "-verification"], name="county_verification_latest")]

    def __str__(self) -> str:
        return f"{self.county} · {self.verification}"

    @property
    def ok(self) -> bool:
        return self.broken_count == 0
