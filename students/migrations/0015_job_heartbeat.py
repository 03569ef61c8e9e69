"""A heartbeat on ledger jobs, when each was sent to the queue, and the sweep that every minute fails the jobs
whose worker was lost and sends the ones the queue never got."""

from django.db import migrations, models

TASK_NAME = "Ledger jobs sweep"


def add_sweep(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "students.tasks.sweep_ledger_jobs",
            "interval": every_minute,
            "enabled": True,
            "description": "Fail import and export jobs whose worker stopped beating; send those never sent.",
        },
    )
    from django.utils import timezone

    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_sweep(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("students", "0014_ledger_corrections_by_county"),
    ]

    operations = [
        migrations.AddField(
            model_name="ledgerjob",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="last sign of its worker"),
        ),
        migrations.AddField(
            model_name="ledgerjob",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="sent to the queue at"),
        ),
        migrations.RunPython(add_sweep, remove_sweep),
    ]
