"""Serve the simulator on a real socket (threaded wsgiref server)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from tiktok_client.simulator.app import SimulatorApp, create_app


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class SimRequestHandler(WSGIRequestHandler):
    quiet = True
    # wsgiref writes headers and body separately; Nagle + delayed ACK would add ~40 ms each.
    disable_nagle_algorithm = True

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
