"""The monthly sign-off: a county's signed figures for a month, and each step of its acceptance, which the database
keeps as written (no update, no delete of a step)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


STEPS_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION reports_signoffstep_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'sign-off steps are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER reports_signoffstep_append_only
    BEFORE UPDATE OR DELETE ON reports_signoffstep
    FOR EACH ROW EXECUTE FUNCTION reports_signoffstep_append_only();
"""

DROP_STEPS_APPEND_ONLY = """
DROP TRIGGER IF EXISTS reports_signoffstep_append_only ON reports_signoffstep;
DROP FUNCTION IF EXISTS reports_signoffstep_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("counties", "0002_school_name_index"),
        ("reports", "0008_run_heartbeat"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="MonthSignOff",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.DateField(help_text="The first day of the month signed.", verbose_name="month")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("signed", "Signed by the county"),
                            ("prefecture_accepted", "Accepted by the prefecture"),
                            ("accepted", "Accepted by the province"),
                            ("sent_back", "Sent back to the county"),
                        ],
                        max_length=20,
                        verbose_name="status",
                    ),
                ),
                ("figures", models.JSONField(verbose_name="signed figures")),
                ("signed_at", models.DateTimeField(verbose_name="signed at")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                (
                    "county",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="counties.division",
                        verbose_name="county",
                    ),
                ),
                (
                    "signed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="signed by",
                    ),
                ),
            ],
            options={
                "verbose_name": "monthly sign-off",
                "verbose_name_plural": "monthly sign-offs",
            },
        ),
        migrations.CreateModel(
            name="SignOffStep",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("sign", "Signed by the county"),
                            ("prefecture_accept", "Accepted by the prefecture"),
                            ("province_accept", "Accepted by the province"),
                            ("send_back", "Sent back with a note"),
                        ],
                        max_length=20,
                        verbose_name="step",
                    ),
                ),
                ("at", models.DateTimeField(verbose_name="at")),
                ("note", models.TextField(blank=True, verbose_name="note")),
                ("figures", models.JSONField(blank=True, null=True, verbose_name="figures signed")),
                (
                    "by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                (
                    "sign_off",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="steps",
                        to="reports.monthsignoff",
                        verbose_name="sign-off",
                    ),
                ),
            ],
            options={
                "verbose_name": "sign-off step",
                "verbose_name_plural": "sign-off steps",
                "ordering": ["at", "pk"],
            },
        ),
        migrations.AddIndex(
            model_name="monthsignoff",
            index=models.Index(fields=["month", "status"], name="signoff_month_status"),
        ),
        migrations.AddConstraint(
            model_name="monthsignoff",
            constraint=models.UniqueConstraint(fields=("county", "month"), name="one_sign_off_per_county_month"),
        ),
        migrations.RunSQL(STEPS_APPEND_ONLY, DROP_STEPS_APPEND_ONLY),
    ]
