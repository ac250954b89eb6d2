"""ImportJob moves from customers to the imports app. The table and its rows stay where they are
(``customers_importjob``): this migration only tells Django's state that the model is now here,
and ``customers.0007_importjob_moved`` removes it from the customers app's state."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('customers', '0006_blind_indexes_hashed'),
        ('tenancy', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='ImportJob',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('kind', models.CharField(choices=[('customers', 'Customers'), ('vehicles', 'Vehicles')], max_length=12, verbose_name='kind')),
                        ('file', models.FileField(upload_to='imports/%Y/%m/', verbose_name='file')),
                        ('original_name', models.CharField(max_length=200, verbose_name='file name')),
                        ('mapping', models.JSONField(default=dict, verbose_name='column mapping')),
                        ('mode', models.CharField(choices=[('all', 'All rows or nothing'), ('valid_only', 'Only the valid rows')], default='all', max_length=12, verbose_name='mode')),
                        ('status', models.CharField(choices=[('uploaded', 'Uploaded'), ('checking', 'Checking'), ('checked', 'Checked'), ('importing', 'Importing'), ('done', 'Done'), ('failed', 'Failed')], default='uploaded', max_length=10, verbose_name='status')),
                        ('total_rows', models.PositiveIntegerField(default=0)),
                        ('processed_rows', models.PositiveIntegerField(default=0)),
                        ('bad_rows', models.PositiveIntegerField(default=0)),
                        ('created_count', models.PositiveIntegerField(default=0)),
                        ('updated_count', models.PositiveIntegerField(default=0)),
                        ('report', models.JSONField(default=dict, verbose_name='report')),
                        ('error', models.TextField(blank=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('store', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.store')),
                    ],
                    options={
                        'verbose_name': 'import',
                        'verbose_name_plural': 'imports',
                        'db_table': 'customers_importjob',
                    },
                ),
            ],
        ),
    ]
