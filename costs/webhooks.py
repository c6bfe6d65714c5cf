"""The one wrapper for outgoing webhooks: a JSON POST (Slack-compatible `{"text": ...}` bodies).

Standard library only; a short timeout, and every failure returned as a result, never raised,
because an alert that cannot be posted must not break the task that sends it.
"""

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

TIMEOUT_S = 5


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook is posted where it was configured, never where a redirect points: an allowed
    https URL must not be turned into a request to an internal address."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, f"redirect to {newurl[:80]} refused", headers, fp)


_OPENER = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class WebhookResult:
    ok: bool
    status: int | None
    error: str = ""

    @property
    def summary(self) -> str:
        return f"HTTP {self.status}" if self.ok else f"failed: {self.error}"


def post_json(url: str, payload: dict, *, timeout: float = TIMEOUT_S) -> WebhookResult:
    if not url.startswith(("https://", "http://")):
        return WebhookResult(False, None, f"not an http(s) URL: {url[:80]}")
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "User-Agent": "geoschem-cloud-runner"})
    try:
        with _OPENER.open(request, timeout=timeout) as response:  # noqa: S310 - http(s) checked above
            return WebhookResult(True, response.status)
    except urllib.error.HTTPError as exc:
        return WebhookResult(False, exc.code, f"HTTP {exc.code} {exc.reason}")
    except (urllib.error.URLError, OSError) as exc:
        return WebhookResult(False, None, str(getattr(exc, "reason", exc)))
