"""The nightly verification of the ledger's hash chains, in the beat schedule kept in the database.

It runs at 00:45 Asia/Shanghai, after the duplicate search (00:30) and before the nightly totals (01:00), and walks
the chains that gained entries since the last verification (students.ledger_chain).
"""

from django.db import migrations

TASK_NAME = "Nightly ledger verification"


def add_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute="45",
        hour="0",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "reports.tasks.verify_ledger_nightly",
            "crontab": schedule,
            "enabled": True,
            "description": "Verify the hash chains of the ledger's history that gained entries since the last check.",
        },
    )
    # Tell a running beat that the schedule changed (what the admin does on save).
    from django.utils import timezone

    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0005_staging_index_and_steps"),
        ("students", "0013_ledger_chain"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
