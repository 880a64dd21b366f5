"""Routes of the audit and document endpoints (under /api/v1/)."""

from django.urls import path

from readapi import audit, exports, pdf_api

urlpatterns = [
    path("invoices/<uuid:invoice_id>/history/", audit.InvoiceHistoryApi.as_view(),
         name="invoice-history"),
    path("invoices/<uuid:invoice_id>/state/", audit.InvoiceStateApi.as_view(),
         name="invoice-state"),
    path("invoices/<uuid:invoice_id>/pdf/", pdf_api.InvoicePdfApi.as_view(), name="invoice-pdf"),
    path("exports/", exports.ExportCreateApi.as_view(), name="export-create"),
    path("exports/<uuid:export_id>/", exports.ExportDetailApi.as_view(), name="export-detail"),
    path("exports/<uuid:export_id>/download/", exports.ExportDownloadApi.as_view(),
         name="export-download"),
]
