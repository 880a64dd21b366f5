"""The Django admin site, with its login counted against the API's login limits.

Without this, ``/admin/login/`` is a third door to the same passwords where guessing is
unlimited, and it opens the most powerful accounts.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from nexus.accounts.page_throttles import refuse_login_attempt


class NexusAdminSite(admin.AdminSite):
    """``AdminSite`` whose login posts count like API logins (per IP, then per username)."""

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None
              ) -> HttpResponse:
        """Count the attempt before the password is checked; 429 once over the limits."""
        if request.method == "POST":
            refused = refuse_login_attempt(request)
            if refused is not None:
                return refused
        return super().login(request, extra_context)
