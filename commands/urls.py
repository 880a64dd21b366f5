"""Routes of the command API (under /api/v1/)."""

from django.urls import path

from commands import api

urlpatterns = [
    path("clients/", api.ClientCreateApi.as_view(), name="client-create"),
    path("clients/<uuid:client_id>/", api.ClientUpdateApi.as_view(), name="client-update"),
    path("invoices/", api.InvoiceCreateApi.as_view(), name="invoice-create"),
    path("invoices/<uuid:invoice_id>/", api.InvoiceUpdateApi.as_view(), name="invoice-update"),
    path("invoices/<uuid:invoice_id>/lines/", api.InvoiceLineAddApi.as_view(),
         name="invoice-line-add"),
    path("invoices/<uuid:invoice_id>/lines/<uuid:line_id>/", api.InvoiceLineApi.as_view(),
         name="invoice-line"),
    path("invoices/<uuid:invoice_id>/submit/", api.InvoiceSubmitApi.as_view(),
         name="invoice-submit"),
    path("invoices/<uuid:invoice_id>/approve/", api.InvoiceApproveApi.as_view(),
         name="invoice-approve"),
    path("invoices/<uuid:invoice_id>/reject/", api.InvoiceRejectApi.as_view(),
         name="invoice-reject"),
    path("invoices/<uuid:invoice_id>/send/", api.InvoiceSendApi.as_view(), name="invoice-send"),
    path("invoices/<uuid:invoice_id>/payments/", api.InvoicePaymentRecordApi.as_view(),
         name="invoice-payment"),
    path("invoices/<uuid:invoice_id>/void/", api.InvoiceVoidApi.as_view(), name="invoice-void"),
]
