"""Routes of the audit endpoints (under /api/v1/)."""

from django.urls import path

from readapi import audit

urlpatterns = [
    path("invoices/<uuid:invoice_id>/history/", audit.InvoiceHistoryApi.as_view(),
         name="invoice-history"),
    path("invoices/<uuid:invoice_id>/state/", audit.InvoiceStateApi.as_view(),
         name="invoice-state"),
]
