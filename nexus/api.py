"""The base of every REST endpoint: throttles run before permissions.

DRF checks permissions first, so an anonymous request refused with 401 would never count
against the anonymous limit; API.md says it must. A request with an invalid token counts as
anonymous too.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.views import APIView

from nexus.throttling import AnonRateThrottle, UserRateThrottle


class NexusApiView(APIView):
    """``APIView`` with API.md's throttling order."""

    throttle_classes = [AnonRateThrottle, UserRateThrottle]

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        self.format_kwarg = self.get_format_suffix(**kwargs)
        neg = self.perform_content_negotiation(request)
        request.accepted_renderer, request.accepted_media_type = neg
        version, scheme = self.determine_version(request, *args, **kwargs)
        request.version, request.versioning_scheme = version, scheme
        try:
            self.perform_authentication(request)
        except (AuthenticationFailed, NotAuthenticated):
            self.check_throttles(request)  # a bad token is an anonymous request
            raise
        self.check_throttles(request)
        self.check_permissions(request)
