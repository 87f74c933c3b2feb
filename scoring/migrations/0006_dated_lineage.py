# Successor links get a date (the day a unit ceased) and may name several units (a split).

import django.db.models.deletion
from django.db import migrations, models

import scoring.validators


def copy_successors(apps, schema_editor):
    """Every unit's single successor becomes its first successor (its date stays unknown:
    import the units again with dissolved_on, or set it in the admin)."""
    Unit = apps.get_model("scoring", "Unit")
    for unit in Unit.objects.exclude(successor=None):
        unit.successors.add(unit.successor_id)


def copy_back(apps, schema_editor):
    Unit = apps.get_model("scoring", "Unit")
    for unit in Unit.objects.all():
        first = unit.successors.order_by("pk").first()
        if first is not None:
            unit.successor = first
            unit.save(update_fields=["successor"])


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0005_agency_and_target_leaves"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="unit", name="unit_not_its_own_successor"),
        migrations.AlterField(
            model_name="unit",
            name="successor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="scoring.unit",
            ),
        ),
        migrations.AddField(
            model_name="unit",
            name="dissolved_on",
            field=models.DateField(blank=True, null=True, verbose_name="ceased on"),
        ),
        migrations.AddField(
            model_name="unit",
            name="dissolved_reason",
            field=models.CharField(
                blank=True,
                help_text="Shown on its public page, e.g. “bỏ cấp huyện”.",
                max_length=200,
                validators=[scoring.validators.validate_single_line],
                verbose_name="why it ceased",
            ),
        ),
        migrations.AddField(
            model_name="unit",
            name="successors",
            field=models.ManyToManyField(
                blank=True,
                related_name="predecessors",
                to="scoring.unit",
                verbose_name="successors",
            ),
        ),
        migrations.RunPython(copy_successors, copy_back),
        migrations.RemoveField(model_name="unit", name="successor"),
    ]
