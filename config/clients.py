"""Who a request comes from, as far as rate limits need to know, and which listener it
arrived on. Both apps use this one rule.

Behind the shipped nginx every client arrives from the proxy's own address, so the
address of the connection says nothing. nginx therefore passes the client's address in
one header of its own (``X-Sealbox-Client``), set only on the clear-web servers and
replaced whatever the client itself sent under that name. The header is believed only on
a connection from a configured proxy address (``trusted_proxies``); from anyone else it is
ignored. Either way it is removed from the request before the app sees it: the app only
ever gets the keyed digest the caller makes of the address (``ClientKeys``), so no view,
error handler or log line can hold the address itself.

Onion traffic is told apart by the local listener its connection arrived on (Tor → nginx
→ gunicorn's onion bind, ``onion_listen``), never by anything the client sends: a
``Host: x.onion`` header on the clear web is just a header.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any

CLIENT_HEADER = "X-Sealbox-Client"
_CLIENT_ENVIRON = "HTTP_" + CLIENT_HEADER.upper().replace("-", "_")
# What ClientKeys leaves in the WSGI environ for the app.
CLIENT_KEY = "sealbox.client_key"
VIA_ONION = "sealbox.via_onion"
# IPv6 clients are counted by their /64: one household or phone gets a whole /64 and can
# change the rest of the address at will.
IPV6_PREFIX = 64


def client_address(environ: dict[str, Any], trusted_proxies: Iterable[str]) -> bytes:
    """The client's address as rate limits count it, taking the proxy's header out of
    ``environ`` whether or not it is believed."""
    claimed = environ.pop(_CLIENT_ENVIRON, None)
    peer = str(environ.get("REMOTE_ADDR") or "")
    if claimed is not None and _is_one_of(peer, trusted_proxies):
        counted = _counted_form(str(claimed).strip())
        if counted is not None:
            return counted.encode()
    return (_counted_form(peer) or peer).encode()


def _is_one_of(address: str, proxies: Iterable[str]) -> bool:
    peer = _parse(address)
    return peer is not None and any(_parse(proxy) == peer for proxy in proxies)


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _counted_form(text: str) -> str | None:
    address = _parse(text)
    if address is None:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)


def arrived_on(environ: dict[str, Any], listen: str) -> bool:
    """Whether the request's connection was accepted on the listener ``listen``
    ("host:port", "[v6]:port", "0.0.0.0:port" for any address, or "unix:/path").

    The local end of the connection comes from the socket itself (gunicorn and the
    development server both put it in the environ), so nothing the client sends moves it."""
    if not listen:
        return False
    connection = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if not isinstance(connection, socket.socket):
        return False
    local = connection.getsockname()
    if listen.startswith("unix:"):
        return isinstance(local, str | bytes) and _text(local) == listen[len("unix:"):]
    if not isinstance(local, tuple):
        return False
    host, _, port = listen.rpartition(":")
    if not port.isdigit() or int(local[1]) != int(port):
        return False
    wanted = _parse(host)
    return wanted is None or wanted.is_unspecified or _parse(str(local[0])) == wanted


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


class ClientKeys:
    """WSGI middleware: replaces what the proxy says about the client by ``digest`` of
    the counted address (``environ[CLIENT_KEY]``) and records whether the request came
    through the onion listener (``environ[VIA_ONION]``)."""

    def __init__(
        self,
        app: Callable[..., Any],
        *,
        trusted_proxies: Iterable[str],
        digest: Callable[[bytes], str],
        onion_listen: str = "",
    ) -> None:
        self.app = app
        self.trusted_proxies = tuple(trusted_proxies)
        self.digest = digest
        self.onion_listen = onion_listen

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ[CLIENT_KEY] = self.digest(client_address(environ, self.trusted_proxies))
        environ[VIA_ONION] = arrived_on(environ, self.onion_listen)
        return self.app(environ, start_response)
