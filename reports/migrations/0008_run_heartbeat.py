"""A heartbeat on totals runs, when each was sent to the queue, and the sweep that every minute marks runs whose
worker was lost as failed and sends the runs the queue never got."""

from django.db import migrations, models

TASK_NAME = "Totals runs sweep"


def add_sweep(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "reports.tasks.sweep_totals_runs",
            "interval": every_minute,
            "enabled": True,
            "description": "Fail totals runs whose worker stopped beating; send the runs the queue never got.",
        },
    )
    from django.utils import timezone

    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_sweep(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("reports", "0007_run_publication_numbers"),
    ]

    operations = [
        migrations.AddField(
            model_name="totalsrun",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="last sign of its worker"),
        ),
        migrations.AddField(
            model_name="totalsrun",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="sent to the queue at"),
        ),
        migrations.RunPython(add_sweep, remove_sweep),
    ]
