"""Exports: the invoices a user may see, as CSV (or XLSX), written by a worker.

``POST /api/v1/exports/`` stores the request and queues the task; the task streams the rows
from the read tables (a server-side cursor, a few thousand rows at a time) into a temporary
file, so memory stays flat whatever the count, then puts the file into the documents storage
and emails the requester. Only the requester can see the export or download it.
"""

from __future__ import annotations

import csv
import io
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from datetime import timezone as tz
from decimal import Decimal
from typing import Any, BinaryIO
from uuid import UUID

from django.conf import settings
from django.core.files import File
from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone
from drf_yasg.utils import swagger_auto_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from events.money import format_money
from events.values import Status
from nexus.api import NexusApiView
from nexus.dispatch import EXPORT_TASK, dispatcher
from nexus.mail import send_templated
from projections.models import InvoiceRow
from readapi.models import Export
from readapi.pdf import documents_storage
from readapi.pdf_api import AnyAccept
from readapi.scoping import invoices_visible_to

COLUMNS = ("number", "status", "client_name", "client_email", "currency", "issue_date",
           "due_date", "subtotal", "tax_total", "total", "amount_paid", "balance_due",
           "created_at")
MONEY_COLUMNS = {"subtotal", "tax_total", "total", "amount_paid", "balance_due"}
TEXT_COLUMNS = {"number", "client_name", "client_email"}
CHUNK_ROWS = 2000
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection):
# such text gets a leading apostrophe, which spreadsheets show as plain text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
Progress = Callable[[int], None]
logger = logging.getLogger(__name__)


class ExportFilters(serializers.Serializer):
    """API.md's filters; ``status`` is one status or a list of them."""

    status = serializers.ListField(child=serializers.ChoiceField([s.value for s in Status]),
                                   required=False, max_length=len(Status))
    client_email = serializers.CharField(max_length=254, required=False)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("status"), str):
            data = {**data, "status": [data["status"]]}
        return super().to_internal_value(data)


class ExportRequest(serializers.Serializer):
    """The body of ``POST /api/v1/exports/``."""

    format = serializers.ChoiceField(sorted(CONTENT_TYPES), default="csv")
    filters = ExportFilters(required=False)


def exported_invoices(*, user: Any, filters: dict[str, Any]) -> QuerySet[InvoiceRow]:
    """What the export holds: ``user``'s invoices under ``filters``, oldest first."""
    invoices = invoices_visible_to(user=user)
    if filters.get("status"):
        invoices = invoices.filter(status__in=filters["status"])
    if filters.get("client_email"):
        invoices = invoices.filter(client_email=filters["client_email"])
    if filters.get("created_after"):
        invoices = invoices.filter(created_at__gte=filters["created_after"])
    if filters.get("created_before"):
        invoices = invoices.filter(created_at__lt=filters["created_before"])
    return invoices.order_by("created_at", "id")


def _cell(column: str, value: Any, currency: str) -> str:
    if value is None:
        return ""
    if column in MONEY_COLUMNS:
        return format_money(value, currency)
    if isinstance(value, datetime):
        return value.astimezone(tz.utc).isoformat().replace("+00:00", "Z")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    if column in TEXT_COLUMNS and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def export_rows(invoices: QuerySet[InvoiceRow]) -> Iterator[list[str]]:
    """Each invoice as its CSV cells, read a chunk at a time (a server-side cursor)."""
    currency_at = COLUMNS.index("currency")
    for values in invoices.values_list(*COLUMNS).iterator(chunk_size=CHUNK_ROWS):
        currency = values[currency_at]
        yield [_cell(column, value, currency) for column, value in zip(COLUMNS, values)]


def write_csv(rows: Iterable[list[str]], target: BinaryIO, progress: Progress) -> int:
    """Write the header and ``rows`` to ``target``; returns the row count."""
    text = io.TextIOWrapper(target, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(COLUMNS)
    count = 0
    for count, row in enumerate(rows, 1):  # noqa: B007 - the count is the result
        writer.writerow(row)
        progress(count)
    text.detach()
    return count


def write_xlsx(rows: Iterable[list[str]], target: BinaryIO, progress: Progress) -> int:
    """The same cells in a worksheet, streamed (xlsxwriter's constant-memory mode).

    Amounts are written as numbers when they have at most 15 significant digits (what a
    spreadsheet holds exactly, so the cell shows the same decimal), else as text: a
    spreadsheet's numbers are binary floating point, and no amount may be shown rounded.
    """
    import xlsxwriter

    with tempfile.TemporaryDirectory() as scratch:
        book = xlsxwriter.Workbook(target, {"constant_memory": True, "tmpdir": scratch,
                                            "strings_to_numbers": False,
                                            "strings_to_formulas": False,
                                            "strings_to_urls": False})
        sheet = book.add_worksheet("Invoices")
        bold = book.add_format({"bold": True})
        sheet.write_row(0, 0, COLUMNS, bold)
        money_at = {COLUMNS.index(column) for column in MONEY_COLUMNS}
        count = 0
        for count, row in enumerate(rows, 1):  # noqa: B007 - the count is the result
            for index, cell in enumerate(row):
                if index in money_at and _spreadsheet_exact(cell):
                    sheet.write_number(count, index, float(cell))
                else:
                    sheet.write_string(count, index, cell)
            progress(count)
        book.close()
    return count


def _spreadsheet_exact(cell: str) -> bool:
    amount = Decimal(cell)
    return len(amount.as_tuple().digits) <= 15 and Decimal(repr(float(amount))) == amount


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}


def run_export(export_id: UUID, *, on_progress: Progress | None = None) -> Export:
    """Write the export's file (the worker's job): queued -> running -> done or failed.

    Progress is stored every ``CHUNK_ROWS`` rows (0-99 while writing, 100 when stored).
    """
    export = Export.objects.select_related("requester").get(id=export_id)
    if export.status == Export.Status.DONE:
        return export
    Export.objects.filter(id=export.id).update(status=Export.Status.RUNNING, progress=0,
                                               started_at=timezone.now())
    invoices = exported_invoices(user=export.requester, filters=_filters(export.filters))
    total = invoices.count()

    def progress(count: int) -> None:
        if count % CHUNK_ROWS == 0:
            percent = min(99, count * 100 // max(total, 1))
            Export.objects.filter(id=export.id).update(progress=percent)
            if on_progress is not None:
                on_progress(percent)

    try:
        with tempfile.TemporaryFile() as target:
            rows = WRITERS[export.format](export_rows(invoices), target, progress)
            target.seek(0)
            name = documents_storage().save(f"exports/{export.id}.{export.format}",
                                            File(target))
    except Exception as error:
        logger.exception("Export %s failed", export.id)
        Export.objects.filter(id=export.id).update(
            status=Export.Status.FAILED, error=type(error).__name__,
            finished_at=timezone.now())
        raise
    Export.objects.filter(id=export.id).update(
        status=Export.Status.DONE, progress=100, rows=rows, file_name=name,
        finished_at=timezone.now())
    export.refresh_from_db()
    return export


def _filters(stored: dict[str, Any]) -> dict[str, Any]:
    """The stored filters (JSON) as the queryset wants them."""
    return dict(ExportFilters().to_internal_value(stored)) if stored else {}


def download_path(export: Export) -> str:
    """Where the requester downloads the file."""
    return f"/api/v1/exports/{export.id}/download/"


def notify_requester(export: Export) -> None:
    """Email the requester that the export is ready (with the link, never the file)."""
    context = {"export": export, "user": export.requester,
               "link": settings.NEXUS_PUBLIC_URL + download_path(export),
               "retention_hours": settings.NEXUS_EXPORT_RETENTION_HOURS}
    send_templated(template="export_ready", to=[export.requester.email], context=context,
                   subject=f"Your Nexus export is ready ({export.rows} invoices)")


def delete_expired(*, now: datetime) -> int:
    """Remove files older than ``NEXUS_EXPORT_RETENTION_HOURS``; how many were removed."""
    cutoff = now - timedelta(hours=settings.NEXUS_EXPORT_RETENTION_HOURS)
    removed = 0
    for export in Export.objects.filter(finished_at__lt=cutoff, expired_at=None):
        if export.file_name:
            documents_storage().delete(export.file_name)
        Export.objects.filter(id=export.id).update(expired_at=now, file_name="")
        removed += 1
    return removed


# --- the API ---------------------------------------------------------------------------------

class ExportGone(APIException):
    """The file was removed after the retention period."""

    status_code = status.HTTP_410_GONE
    default_detail = "The export's file was removed after the retention period."
    default_code = "export_expired"


class ExportNotReady(APIException):
    """The export is still queued or running, or failed."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "export_not_ready"


def export_body(export: Export, request: Request) -> dict[str, Any]:
    """How the API shows an export."""
    ready = export.status == Export.Status.DONE and export.expired_at is None
    expires = (export.finished_at + timedelta(hours=settings.NEXUS_EXPORT_RETENTION_HOURS)
               if export.finished_at and export.status == Export.Status.DONE else None)
    return {
        "id": str(export.id), "status": export.status, "progress": export.progress,
        "download_url": request.build_absolute_uri(download_path(export)) if ready else None,
        "format": export.format, "rows": export.rows if ready else None,
        "filters": export.filters, "created_at": export.created_at,
        "finished_at": export.finished_at, "expires_at": expires,
        "expired": export.expired_at is not None,
    }


def requested_export(request: Request, export_id: UUID) -> Export:
    """The caller's own export; anyone else's is a 404 like a missing one."""
    export = Export.objects.filter(id=export_id, requester_id=request.user.id).first()
    if export is None:
        raise NotFound("Export not found.")
    return export


class ExportCreateApi(NexusApiView):
    """Ask for an export of the invoices the caller may see."""

    @swagger_auto_schema(request_body=ExportRequest,
                         responses={202: "{id, status, progress, download_url}", 400: "invalid"})
    def post(self, request: Request) -> Response:
        values = ExportRequest(data=request.data)
        values.is_valid(raise_exception=True)
        filters = ExportFilters(values.validated_data.get("filters") or {}).data
        export = Export.objects.create(requester=request.user,
                                       format=values.validated_data["format"],
                                       filters={k: v for k, v in filters.items() if v})
        # Embedded, or the broker is down: write it now.
        if not dispatcher().queue(EXPORT_TASK, export_id=str(export.id)):
            export = run_export(export.id)
            _notify_quietly(export)
        return Response(export_body(export, request), status=status.HTTP_202_ACCEPTED,
                        headers={"Location": f"/api/v1/exports/{export.id}/"})


def _notify_quietly(export: Export) -> None:
    try:
        notify_requester(export)
    except Exception:  # the export is there; the email is a courtesy
        logger.warning("Could not email export %s to its requester", export.id, exc_info=True)


class ExportDetailApi(NexusApiView):
    """Status and progress of one of the caller's exports."""

    @swagger_auto_schema(responses={200: "{id, status, progress, download_url}", 404: "not found"})
    def get(self, request: Request, export_id: UUID) -> Response:
        return Response(export_body(requested_export(request, export_id), request))


class ExportDownloadApi(NexusApiView):
    """The file of one of the caller's exports."""

    content_negotiation_class = AnyAccept

    @swagger_auto_schema(responses={200: "the file", 404: "not found", 409: "not ready",
                                    410: "removed after the retention period"})
    def get(self, request: Request, export_id: UUID) -> Any:
        export = requested_export(request, export_id)
        if export.expired_at is not None:
            raise ExportGone()
        if export.status != Export.Status.DONE:
            raise ExportNotReady(f"The export is {export.status}.")
        response = FileResponse(documents_storage().open(export.file_name, "rb"),
                                as_attachment=True, content_type=CONTENT_TYPES[export.format],
                                filename=f"nexus-invoices-{export.created_at:%Y%m%d-%H%M%S}."
                                         f"{export.format}")
        response["Cache-Control"] = "private, no-store"
        return response
