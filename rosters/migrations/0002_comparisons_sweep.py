"""The sweep that every minute fails the roster comparisons whose worker was lost and sends the ones the queue
never got (rosters.tasks.sweep_comparisons)."""

from django.db import migrations

TASK_NAME = "Roster comparisons sweep"


def add_sweep(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "rosters.tasks.sweep_comparisons",
            "interval": every_minute,
            "enabled": True,
            "description": "Fail roster comparisons whose worker stopped beating; send those never sent.",
        },
    )
    from django.utils import timezone

    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_sweep(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("rosters", "0001_initial"),
    ]

    operations = [migrations.RunPython(add_sweep, remove_sweep)]
