"""``search serve``: the page and its API on a local address, the collection held open.

Safe by default: it binds to the loopback address; any other host serves the collection
to other machines and is refused unless an API key guards it.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import PatentSimError, UserInputError, setting
from ..store import StoreSettings
from ..store.lockfile import Holder, announce, identity
from .service import ServedCollection

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
MEMORY_URL = ":memory:"


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str, api_key: str | None) -> None:
    """Refuse a host other machines can reach unless requests must carry a key."""
    if not is_loopback(host) and not api_key:
        raise UserInputError(
            f"{setting('host')} {host} serves the collection to other machines, and no "
            f"{setting('api_key')} guards it",
            f"give {setting('api_key')} KEY (requests must then carry it), or leave out "
            f"{setting('host')} to serve on {DEFAULT_HOST} only",
        )


def dashboard_url(settings: StoreSettings, collection: str) -> str | None:
    """The Qdrant dashboard's page of the collection, where the backend is a server."""
    if not settings.url or settings.url == MEMORY_URL:
        return None
    return f"{settings.url.rstrip('/')}/dashboard#/collections/{collection}"


def url_of(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def bind(host: str, port: int) -> socket.socket:
    """The listening socket (port 0: any free port); a one-line error when it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by every accepted connection: without it a response's header and body writes
    # wait for the client's delayed ACK (tens of ms a request; bench/web.py measured it).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise PatentSimError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            f"choose another {setting('port')} (0 picks a free one)",
        ) from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@dataclass
class Running:
    """A server started by ``start``: its URL, and how to stop it."""

    url: str
    served: ServedCollection
    server: Any
    was: Holder  # how this process described itself before it served
    thread: threading.Thread | None = None

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
        self.served.close()
        announce(self.was.who, yields=self.was.yields)


def prepare(
    settings: StoreSettings,
    collection: str | None,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    api_key: str | None = None,
    embedder: Any = None,
) -> tuple[Running, socket.socket]:
    """Check the host, open the collection, bind the port, build the application."""
    import uvicorn

    from ..search.overview import describe
    from .app import create_app

    check_host(host, api_key)
    served = ServedCollection(settings, collection, embedder=embedder)
    try:
        # Opened now: an unknown or busy collection is said at once, not on the first request.
        served.ask(lambda store: describe(collection=served.name, store=store))
        sock = bind(host, port)
    except BaseException:
        served.close()
        raise
    url = url_of(host, sock.getsockname()[1])
    was = identity()
    announce(f"search serve at {url}", yields=True)
    app = create_app(served, api_key=api_key, dashboard=dashboard_url(settings, served.name))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    return Running(url, served, uvicorn.Server(config), was), sock


def serve(
    settings: StoreSettings,
    collection: str | None,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    api_key: str | None = None,
    ready: Callable[[Running], None] | None = None,
) -> None:
    """Serve until interrupted; ``ready`` is told the URL once the port listens."""
    running, sock = prepare(settings, collection, host=host, port=port, api_key=api_key)
    running.served.watch()
    try:
        if ready is not None:
            ready(running)
        running.server.run(sockets=[sock])
    finally:
        sock.close()
        running.stop()


def start(
    settings: StoreSettings,
    collection: str | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    api_key: str | None = None,
    embedder: Any = None,
) -> Running:
    """Serve in a thread of this process (tests, notebooks); ``Running.stop`` ends it."""
    running, sock = prepare(
        settings, collection, host=host, port=port, api_key=api_key, embedder=embedder
    )
    running.served.watch()
    thread = threading.Thread(
        target=running.server.run, kwargs={"sockets": [sock]}, name="serve", daemon=True
    )
    running.thread = thread
    thread.start()
    for _ in range(500):
        if running.server.started:
            break
        threading.Event().wait(0.01)
    return running
