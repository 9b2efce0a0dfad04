"""A small client for Ladder's REST API v1 over urllib: tokens, JSON, retries that are safe
(every POST carries an Idempotency-Key, reused when it is sent again)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

from ladderctl import __version__

RETRY_STATUSES = {429, 502, 503, 504}
ATTEMPTS = 4
MAX_BACKOFF = 30.0
MAX_PAGES = 200


class ApiError(Exception):
    """The portal answered with an error; ``body`` is its JSON error (detail, code, fields)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.body = body
        super().__init__(body.get("detail") or f"HTTP {status}")

    @property
    def fields(self) -> dict[str, str]:
        fields = self.body.get("fields") or {}
        return {str(k): str(v) for k, v in fields.items()}


class Unreachable(Exception):
    """No answer from the portal (wrong LADDER_URL, or it is down)."""


class Api:
    def __init__(self, url: str, token: str, *, timeout: float = 30.0) -> None:
        self.base = url.rstrip("/") + "/api/v1/"
        self.token = token
        self.timeout = timeout

    def send(
        self, method: str, url: str, headers: dict[str, str], data: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP exchange (tests replace this)."""
        if not url.startswith(("http://", "https://")):
            raise Unreachable(f"LADDER_URL must start with http:// or https://, not {url!r}")
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 - checked above
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers or {}), exc.read()
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise Unreachable(f"cannot reach {self.base}: {reason}") from None

    def url(self, path: str, query: dict[str, Any] | None = None) -> str:
        url = path if path.startswith(("http://", "https://")) else self.base + path.lstrip("/")
        clean = {k: v for k, v in (query or {}).items() if v not in (None, "")}
        if clean:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(clean)
        return url

    def request(
        self, method: str, path: str, *, body: Any = None, query: dict[str, Any] | None = None
    ) -> Any:
        url = self.url(path, query)
        headers = {
            "Accept": "application/json",
            "Authorization": f"Token {self.token}",
            "User-Agent": f"ladderctl/{__version__}",
        }
        data = None
        if method != "GET":
            data = json.dumps(body if body is not None else {}).encode()
            headers["Content-Type"] = "application/json"
            headers["Idempotency-Key"] = str(uuid.uuid4())
        for attempt in range(1, ATTEMPTS + 1):
            try:
                status, response_headers, raw = self.send(method, url, headers, data)
            except Unreachable:
                if attempt == ATTEMPTS:
                    raise
                time.sleep(min(2.0**attempt, MAX_BACKOFF))
                continue
            if status in RETRY_STATUSES and attempt < ATTEMPTS:
                time.sleep(_retry_after(response_headers, attempt))
                continue
            payload = _json(raw)
            if status >= 400:
                if not isinstance(payload, dict) or "detail" not in payload:
                    payload = {"detail": f"HTTP {status}", "code": "http_error"}
                raise ApiError(status, payload)
            return payload
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, path: str, **query: Any) -> Any:
        return self.request("GET", path, query=query)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.request("POST", path, body=body or {})

    def get_all(self, path: str, **query: Any) -> list[dict[str, Any]]:
        """Every row of a paginated list, following ``next``."""
        page = self.get(path, page_size=100, **query)
        rows = list(page["results"])
        for _ in range(MAX_PAGES):
            if not page.get("next"):
                break
            page = self.get(page["next"])
            rows.extend(page["results"])
        return rows


def _retry_after(headers: dict[str, str], attempt: int) -> float:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return min(max(float(value), 0.5), MAX_BACKOFF)
            except ValueError:
                break
    return min(2.0**attempt, MAX_BACKOFF)


def _json(raw: bytes) -> Any:
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return {"detail": raw[:200].decode(errors="replace"), "code": "not_json"}
