"""Serve the simulator on a real socket: a threaded wsgiref server speaking HTTP/1.1 with
persistent connections, as TikTok's servers do.

wsgiref alone answers in HTTP/1.0 and closes the connection after every answer, so a client
would open a new TCP connection per request and its connection pool would never be used.
Here a connection serves one request after another until the client closes it, sends
`Connection: close`, or stays idle for `IDLE_TIMEOUT_SECONDS`. An answer whose length is
unknown (no Content-Length) ends its connection, as does a request body the application left
unread and that is too large to skip.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from socketserver import ThreadingMixIn
from typing import IO, Any, cast
from wsgiref.headers import Headers
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server

from tiktok_client.simulator.app import SimulatorApp, create_app

#: An idle persistent connection is closed after this long (httpx drops its idle connections
#: after 5 s, so the client, not the server, normally ends them).
IDLE_TIMEOUT_SECONDS = 30.0
#: A body the application did not read is skipped up to this size; beyond, the connection ends.
MAX_UNREAD_BODY_BYTES = 1024 * 1024


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class RequestBody:
    """`wsgi.input`: exactly the request's Content-Length bytes of the connection, so that
    an application reading "everything" never reads into the next request."""

    def __init__(self, stream: Any, length: int) -> None:
        self._stream = stream
        self.remaining = length

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > self.remaining:
            size = self.remaining
        data: bytes = self._stream.read(size) if size else b""
        self.remaining -= len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > self.remaining:
            size = self.remaining
        data: bytes = self._stream.readline(size) if size else b""
        self.remaining -= len(data)
        return data

    def readlines(self, hint: int = -1) -> list[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self) -> Any:
        return iter(self.readline, b"")


class PersistentServerHandler(ServerHandler):
    """wsgiref's handler answering in the request's HTTP version; it tells its request
    handler whether the connection may serve another request."""

    request_handler: SimRequestHandler
    headers: Headers | None

    def cleanup_headers(self) -> None:
        super().cleanup_headers()
        assert self.headers is not None
        if "Content-Length" not in self.headers and self.http_version == "1.1":
            # Only the end of the connection can end this answer.
            self.headers["Connection"] = "close"

    def close(self) -> None:
        headers = self.headers
        keep = (
            headers is not None
            and "Content-Length" in headers
            and (headers.get("Connection") or "").lower() != "close"
        )
        if not keep:
            self.request_handler.close_connection = True
        super().close()

    def handle_error(self) -> None:
        self.request_handler.close_connection = True
        super().handle_error()


class SimRequestHandler(WSGIRequestHandler):
    quiet = True
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_SECONDS
    # wsgiref writes headers and body separately; Nagle + delayed ACK would add ~40 ms each.
    disable_nagle_algorithm = True

    def handle(self) -> None:
        """Serve requests on this connection until one of them ends it."""
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection:
            self.handle_one_request()

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except OSError:  # idle past the timeout, or the client went away
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            self.close_connection = True
            return
        if not self.parse_request():  # it answered the error and ends the connection
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
            self.close_connection = True  # where this request ends cannot be known
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
        body = RequestBody(self.rfile, max(length, 0))
        handler = PersistentServerHandler(
            body,
            cast(IO[bytes], self.wfile),
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
        )
        handler.http_version = "1.1" if self.request_version == "HTTP/1.1" else "1.0"
        handler.request_handler = self
        handler.run(self.server.get_app())  # type: ignore[attr-defined]
        if handler.http_version != "1.1":
            self.close_connection = True
        if not self.close_connection and body.remaining:
            if body.remaining > MAX_UNREAD_BODY_BYTES:
                self.close_connection = True
            else:
                try:
                    body.read()
                except OSError:
                    self.close_connection = True

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        # Lets fault injection drop the connection without answering.
        environ["tiktok_sim.connection"] = self.connection
        return environ

    def log_message(self, format: str, *args: Any) -> None:
        if not self.quiet:
            super().log_message(format, *args)


def build_server(
    app: SimulatorApp, *, host: str = "127.0.0.1", port: int = 8765, quiet: bool = True
) -> ThreadingWSGIServer:
    handler = type("Handler", (SimRequestHandler,), {"quiet": quiet})
    server = make_server(host, port, app, server_class=ThreadingWSGIServer, handler_class=handler)
    assert isinstance(server, ThreadingWSGIServer)
    return server


def run_in_thread(
    port: int = 0, *, host: str = "127.0.0.1", app: SimulatorApp | None = None
) -> tuple[str, Callable[[], None]]:
    """Start a simulator in a daemon thread; return ``(base_url, stop)``.

    Pass ``app`` to keep in-process access to its state (``app.faults``, ``app.counters``).
    """
    server = build_server(app or create_app(), host=host, port=port)
    bound_port = server.server_address[1]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="tiktok-sim", daemon=True
    )
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return f"http://{host}:{bound_port}", stop
