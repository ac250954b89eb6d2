from django.db import migrations


def seed(apps, schema_editor):
    from autocrm.maintenance.defaults import seed_default_plan

    seed_default_plan(apps.get_model("maintenance", "ServicePlan"), apps.get_model("maintenance", "PlanItem"))


class Migration(migrations.Migration):
    dependencies = [("maintenance", "0001_maintenance_plans_due_recalls")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
