"""URL map of Nexus."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_yasg import openapi
from drf_yasg.views import get_schema_view
from rest_framework.permissions import AllowAny

from nexus import health
from readapi.dashboard import dashboard
from readapi.preview import invoice_preview
from readapi.views import graphql_view

schema_view = get_schema_view(
    openapi.Info(
        title="Nexus API",
        default_version="v1",
        description=(
            "Event-sourced invoicing. REST commands append events; reads are GraphQL at "
            "/graphql/. Authenticate with `Authorization: Bearer <token>` from "
            "POST /api/v1/auth/login/."
        ),
    ),
    public=True,
    permission_classes=[AllowAny],
    authentication_classes=[],
)

# Swagger UI and ReDoc write inline <style> (insQ's animations, styled-components): their
# pages alone allow inline styles, never inline scripts, and still load nothing from elsewhere.
# ReDoc runs its search index in a worker made from a blob: URL.
docs_policy = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("nexus.accounts.page_urls")),
    path("api/v1/", include("nexus.accounts.urls")),
    path("api/v1/", include("commands.urls")),
    path("api/v1/", include("readapi.urls")),
    path("swagger.json", schema_view.without_ui(cache_timeout=0), name="schema-json"),
    path("swagger/", docs_policy(schema_view.with_ui("swagger", cache_timeout=0)),
         name="schema-swagger-ui"),
    path("redoc/", docs_policy(schema_view.with_ui("redoc", cache_timeout=0)),
         name="schema-redoc"),
    path("graphql/", graphql_view(), name="graphql"),
    path("invoices/<uuid:invoice_id>/preview/", invoice_preview, name="invoice-preview"),
    path("dashboard/", dashboard, name="dashboard"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
