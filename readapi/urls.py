"""Routes of the audit and document endpoints (under /api/v1/)."""

from django.urls import path

from readapi import audit, pdf_api

urlpatterns = [
    path("invoices/<uuid:invoice_id>/history/", audit.InvoiceHistoryApi.as_view(),
         name="invoice-history"),
    path("invoices/<uuid:invoice_id>/state/", audit.InvoiceStateApi.as_view(),
         name="invoice-state"),
    path("invoices/<uuid:invoice_id>/pdf/", pdf_api.InvoicePdfApi.as_view(), name="invoice-pdf"),
]
