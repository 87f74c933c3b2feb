from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rankings", "0003_comparisons_through_merges"),
    ]

    operations = [
        migrations.CreateModel(
            name="Decision",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("year", models.PositiveSmallIntegerField(unique=True, verbose_name="year")),
                (
                    "number",
                    models.CharField(
                        blank=True,
                        help_text="e.g. 512/QĐ-UBND",
                        max_length=50,
                        verbose_name="decision number",
                    ),
                ),
                ("date", models.DateField(blank=True, null=True, verbose_name="decision date")),
                (
                    "signed_by",
                    models.CharField(blank=True, max_length=200, verbose_name="signed by"),
                ),
                ("recorded_at", models.DateTimeField(auto_now=True, verbose_name="recorded at")),
            ],
            options={
                "verbose_name": "decision",
                "verbose_name_plural": "decisions",
                "ordering": ["-year"],
            },
        ),
    ]
