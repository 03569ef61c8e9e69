"""The nightly duplicate search runs in the beat schedule kept in the database, so an administrator can change it.

It runs at 00:30 Asia/Shanghai, before the nightly totals (01:00): a county official finds the night's candidates
in the morning, and the merges decided during the day are in the corrections the totals run reads.
"""

from django.db import migrations

TASK_NAME = "Nightly duplicate search"


def add_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="0",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "students.tasks.find_duplicates",
            "crontab": schedule,
            "enabled": True,
            "description": "Propose records that are probably one child: names alike, or ID numbers one typo apart.",
        },
    )
    # Tell a running beat that the schedule changed (what the admin does on save).
    from django.utils import timezone

    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("students", "0010_one_child_across_counties"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
