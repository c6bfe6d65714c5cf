"""The shipped instance catalog and published throughput figures (costs/snapshot.py)."""

from django.db import migrations


def load(apps, schema_editor):
    from costs.snapshot import load_snapshot

    load_snapshot(InstanceType=apps.get_model("costs", "InstanceType"),
                  InstancePrice=apps.get_model("costs", "InstancePrice"),
                  ThroughputSample=apps.get_model("costs", "ThroughputSample"))


class Migration(migrations.Migration):
    dependencies = [("costs", "0001_catalog_costs_budgets")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
