"""Lines, tax rows and payments carry their invoice's currency (filled from the invoices)."""

from django.db import migrations, models

FILL = """
UPDATE {table} SET currency = COALESCE((
    SELECT projections_invoicerow.currency FROM projections_invoicerow
    WHERE projections_invoicerow.id = {table}.invoice_id), '')
"""


class Migration(migrations.Migration):

    dependencies = [("projections", "0003_exact_decimals")]

    operations = [
        *(migrations.AddField(model_name=model, name="currency",
                              field=models.CharField(default="", max_length=3),
                              preserve_default=False)
          for model in ("linerow", "taxrow", "paymentrow")),
        *(migrations.RunSQL(FILL.format(table=f"projections_{model}"), migrations.RunSQL.noop)
          for model in ("linerow", "taxrow", "paymentrow")),
    ]
