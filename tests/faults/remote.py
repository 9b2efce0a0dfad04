"""A scripted gateway that works across processes: the test process serves a ScriptedGateway
over HTTP on 127.0.0.1; worker processes reach it through ``factory`` (settings
STACK_GATEWAY_FACTORY = "tests.faults.remote.factory", FAULT_GATEWAY_URL = the server).

Every call a worker makes is counted here, in the test process, so a worker killed with
SIGKILL cannot take its calls with it. Stacks take wall-clock time (``duration``), as on AWS.
"""

from __future__ import annotations

import os
import pickle
import threading
import time
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from provisioning.aws import gateway as gw
from tests.fakes import MUTATING, FakeStack, ScriptedGateway

TOKEN_ARGS = ("client_request_token", "client_token")


class TimedGateway(ScriptedGateway):
    """A stack started by execute/delete settles ``duration`` seconds later, not per look."""

    def __init__(self, *, duration: float = 0.0) -> None:
        super().__init__()
        self.duration = duration

    def _start(self, stack: FakeStack, in_progress: str, complete: str) -> None:
        super()._start(stack, in_progress, complete)
        stack.ready_at = time.monotonic() + self.duration  # type: ignore[attr-defined]

    def _advance(self, stack: FakeStack) -> None:
        if time.monotonic() >= getattr(stack, "ready_at", 0.0):
            while stack.pending:
                self._set(stack, stack.pending.pop(0))


class GatewayServer:
    """Serves one gateway; records every call (method, token or stack name) as it arrives."""

    def __init__(self, gateway: ScriptedGateway) -> None:
        self.gateway = gateway
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.mutating_calls: list[tuple[str, str]] = []  # every attempt, before the fake sees it
        self.die_before: dict[str, set[str]] = {}  # method -> stack names whose caller dies
        self.delay: dict[str, float] = {}  # method -> seconds the call takes
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> GatewayServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def per_change(self, method: str) -> Counter[str]:
        """How many times ``method`` reached the cloud, by token."""
        return Counter(key for m, key in self.mutating_calls if m == method)

    def call(self, method: str, kwargs: dict[str, Any]) -> tuple[str, Any]:
        if kwargs.get("stack_name") in self.die_before.get(method, ()):
            with self.lock:
                self.calls[f"died:{method}"] += 1
            return ("die", None)
        if method in self.delay:
            time.sleep(self.delay[method])
        with self.lock:
            self.calls[method] += 1
            if method in MUTATING:
                key = next((kwargs[a] for a in TOKEN_ARGS if kwargs.get(a)), "")
                self.mutating_calls.append((method, key or kwargs.get("stack_name", "")))
            try:
                return ("ok", getattr(self.gateway, method)(**kwargs))
            except gw.GatewayError as exc:
                return ("error", (type(exc).__name__, str(exc), exc.code, exc.retryable))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                method, kwargs = pickle.loads(body)
                answer = pickle.dumps(server.call(method, kwargs))
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


class RemoteGateway:
    """The worker's side: each StackGateway method is one POST to the test process."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __getattr__(self, method: str) -> Any:
        def call(**kwargs: Any) -> Any:
            request = urllib.request.Request(self.url, data=pickle.dumps((method, kwargs)))
            with urllib.request.urlopen(request, timeout=30) as response:
                kind, value = pickle.loads(response.read())
            if kind == "die":
                os._exit(137)  # as if killed -9 here: no cleanup, no ack, no commit
            if kind == "error":
                name, message, code, retryable = value
                cls = getattr(gw, name, gw.GatewayError)
                if cls is gw.Throttled:
                    raise gw.Throttled(message, code=code)
                raise (cls(message, code=code, retryable=retryable))
            return value

        return call


def factory(*, team: Any, region: str) -> RemoteGateway:
    """settings.STACK_GATEWAY_FACTORY in the worker processes of the fault tests."""
    return RemoteGateway(os.environ["FAULT_GATEWAY_URL"])
