import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Like case events and identity changes, the changes of a case's responsible persons are history: the database
# refuses to rewrite them.
APPEND_ONLY = """
CREATE OR REPLACE FUNCTION students_responsiblepersonchange_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'changes of responsible persons are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER students_responsiblepersonchange_append_only
    BEFORE UPDATE OR DELETE ON students_responsiblepersonchange
    FOR EACH ROW EXECUTE FUNCTION students_responsiblepersonchange_append_only();
"""

DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS students_responsiblepersonchange_append_only ON students_responsiblepersonchange;
DROP FUNCTION IF EXISTS students_responsiblepersonchange_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("students", "0011_duplicates_schedule"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ResponsiblePersonChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(auto_now_add=True, verbose_name="at")),
                ("changes", models.JSONField(default=dict, verbose_name="changes")),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="responsible_person_changes",
                        to="students.dropoutcase",
                        verbose_name="case",
                    ),
                ),
                (
                    "changed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="changed by",
                    ),
                ),
            ],
            options={
                "verbose_name": "change of responsible persons",
                "verbose_name_plural": "changes of responsible persons",
                "ordering": ["-at", "-pk"],
                "indexes": [models.Index(fields=["case", "-at"], name="students_re_case_id_906567_idx")],
            },
        ),
        migrations.RunSQL(APPEND_ONLY, DROP_APPEND_ONLY),
    ]
