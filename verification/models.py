"""Spot checks of returned cases (抽查复验): rounds drawn by ministry or province staff, each sampled case checked
again by a verifier.

Writes go through verification.services; reads of the cases through students.access, whose scope gives a
verifier the cases assigned to them and nothing else.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from counties.models import Division
from students.models import DropoutCase


class Outcome(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed in school")
    NOT_FOUND = "not_found", _("Not found in school")
    RECORD_WRONG = "record_wrong", _("Record wrong")


# The outcomes that fail a check: the return on the ledger did not hold.
FAILED = (Outcome.NOT_FOUND, Outcome.RECORD_WRONG)


class SpotCheckRound(models.Model):
    """One draw of returned cases in an area and period, reproducible from its seed and parameters.

    `params` keeps what the draw was made from: the weighting (its emphasis, and each county's open count before
    and after the period, its fall and its weight), the number of candidates and the number drawn.
    """

    area = models.ForeignKey(Division, models.PROTECT, related_name="+", verbose_name=_("area"))
    returned_from = models.DateField(_("returned from"))
    returned_until = models.DateField(_("returned until"))
    size = models.PositiveIntegerField(_("sample size"), null=True, blank=True)
    share = models.DecimalField(_("sample share (%)"), max_digits=5, decimal_places=2, null=True, blank=True)
    seed = models.BigIntegerField(_("seed"))
    params = models.JSONField(_("parameters"), default=dict)
    note = models.TextField(_("note"), blank=True)
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("drawn by"))
    drawn_at = models.DateTimeField(_("drawn at"), auto_now_add=True)

    class Meta:
        verbose_name = _("spot-check round")
        verbose_name_plural = _("spot-check rounds")
        ordering = ["-drawn_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(size__isnull=False, share__isnull=True) | Q(size__isnull=True, share__isnull=False),
                name="spotcheckround_size_or_share",
            ),
            models.CheckConstraint(
                condition=Q(returned_until__gte=models.F("returned_from")), name="spotcheckround_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area.name} {self.returned_from}–{self.returned_until}"


class SpotCheck(models.Model):
    """One sampled case of a round: who checks it, and what they found."""

    round = models.ForeignKey(SpotCheckRound, models.CASCADE, related_name="checks", verbose_name=_("round"))
    case = models.ForeignKey(DropoutCase, models.PROTECT, related_name="spot_checks", verbose_name=_("case"))
    # The case's county when drawn: the dashboards count a check where it was drawn, whatever handover follows.
    county = models.ForeignKey(Division, models.PROTECT, related_name="+", verbose_name=_("county"))
    weight = models.FloatField(_("weight"))
    verifier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="spot_checks",
        verbose_name=_("verifier"),
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    checked_on = models.DateField(_("checked on"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    evidence = models.FileField(_("photo or scan"), upload_to="spot-checks/%Y/%m/", blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)
    # The new case a "not found" opened (students.services.case_reopen_on_relapse).
    reopened_case = models.ForeignKey(
        DropoutCase,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="reopening_checks",
        verbose_name=_("case reopened"),
    )

    class Meta:
        verbose_name = _("spot check")
        verbose_name_plural = _("spot checks")
        ordering = ["round", "pk"]
        constraints = [models.UniqueConstraint(fields=["round", "case"], name="spotcheck_once_per_round")]
        indexes = [models.Index(fields=["county", "outcome"]), models.Index(fields=["verifier", "outcome"])]

    def __str__(self) -> str:
        return f"{self.round} · {self.case_id}"

    @property
    def failed(self) -> bool:
        return self.outcome in FAILED
