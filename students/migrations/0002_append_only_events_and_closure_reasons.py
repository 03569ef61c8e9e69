"""Case events are append-only: the database itself refuses UPDATE and DELETE on them.

Also seeds the closure reasons named in national documents; administrators may edit them.
"""

from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION students_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'case events are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER students_caseevent_append_only
    BEFORE UPDATE OR DELETE ON students_caseevent
    FOR EACH ROW EXECUTE FUNCTION students_caseevent_append_only();
"""

DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS students_caseevent_append_only ON students_caseevent;
DROP FUNCTION IF EXISTS students_caseevent_append_only();
"""

CLOSURE_REASONS = [
    ("unable_to_study", "身体原因不具备学习条件（延缓入学/休学）", "Physically unable to study (deferred or suspended)", True),
    ("sports_school", "转入体校", "Transferred to a sports school", False),
    ("moved_away", "迁出本县", "Moved away to another county", False),
    ("over_age", "超过义务教育年龄", "Over compulsory-education age", False),
    ("deceased", "死亡", "Deceased", False),
    ("other", "其他", "Other", False),
]


def add_closure_reasons(apps, schema_editor):
    ClosureReason = apps.get_model("students", "ClosureReason")
    for code, name, name_en, is_exemption in CLOSURE_REASONS:
        ClosureReason.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "is_exemption": is_exemption}
        )


class Migration(migrations.Migration):
    dependencies = [("students", "0001_initial")]

    operations = [
        migrations.RunSQL(APPEND_ONLY, DROP_APPEND_ONLY),
        migrations.RunPython(add_closure_reasons, migrations.RunPython.noop),
    ]
