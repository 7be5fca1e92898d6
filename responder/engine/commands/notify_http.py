"""What every notification channel shares: which URLs may be told anything (https, or http to a loopback address),
and one POST whose failure is said in words that hold no secret."""

from __future__ import annotations

import ipaddress
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from responder.redaction import SECRETS

TIMEOUT_SECONDS = 10.0


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def https_or_loopback(url: str) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return (parts.scheme == "https" and bool(host)) or (parts.scheme == "http" and loopback(host))


def post(url: str, data: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
    """One POST; (status, None) on a 2xx answer, else (status or None, why) in words that hold no secret."""
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked: https, or http to loopback)
        url, data=data, method="POST", headers={"User-Agent": "responder", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310 (checked above)
            return int(answer.status), None
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, SECRETS.redact(f"{type(reason).__name__}: {reason}")[:200]
