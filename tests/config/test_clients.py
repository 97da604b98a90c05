"""config.clients: which address a request is counted as, and which listener it came in on,
with real sockets (what gunicorn and the development server put in the environ)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.clients import arrived_on, client_address

PROXIES = ("127.0.0.1", "::1")


def test_the_header_counts_only_from_a_trusted_proxy_and_is_always_removed() -> None:
    behind_nginx = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_SEALBOX_CLIENT": "198.51.100.7"}
    assert client_address(behind_nginx, PROXIES) == b"198.51.100.7"
    assert "HTTP_X_SEALBOX_CLIENT" not in behind_nginx
    elsewhere = {"REMOTE_ADDR": "203.0.113.1", "HTTP_X_SEALBOX_CLIENT": "198.51.100.7"}
    assert client_address(elsewhere, PROXIES) == b"203.0.113.1"
    assert "HTTP_X_SEALBOX_CLIENT" not in elsewhere
    # A mapped IPv4 proxy address is the same proxy; a garbled header falls back to the peer.
    assert client_address({"REMOTE_ADDR": "::ffff:127.0.0.1",
                           "HTTP_X_SEALBOX_CLIENT": "198.51.100.8"}, PROXIES) == b"198.51.100.8"
    assert client_address({"REMOTE_ADDR": "127.0.0.1",
                           "HTTP_X_SEALBOX_CLIENT": "not an address"}, PROXIES) == b"127.0.0.1"
    assert client_address({"REMOTE_ADDR": "::1", "HTTP_X_SEALBOX_CLIENT": "2001:db8::1:2:3:4"},
                          PROXIES) == b"2001:db8::/64"


@pytest.fixture
def connection_on_any_address() -> Iterator[tuple[int, socket.socket]]:
    with socket.create_server(("0.0.0.0", 0)) as listener:  # noqa: S104 (the wildcard case)
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):
            accepted, _ = listener.accept()
            with accepted:
                yield port, accepted


def test_listener_by_address_wildcard_and_port(
    connection_on_any_address: tuple[int, socket.socket],
) -> None:
    port, connection = connection_on_any_address
    environ = {"gunicorn.socket": connection, "HTTP_HOST": "x.onion", "SERVER_PORT": "1"}
    assert arrived_on(environ, f"0.0.0.0:{port}")  # a container binds every address
    assert arrived_on(environ, f"127.0.0.1:{port}")
    assert not arrived_on(environ, f"127.0.0.2:{port}")
    assert not arrived_on(environ, f"127.0.0.1:{port + 1 if port < 65535 else port - 1}")
    assert not arrived_on(environ, "")
    # Without a socket (nothing to trust) a request is never onion traffic.
    assert not arrived_on({"HTTP_HOST": "x.onion", "SERVER_PORT": str(port)}, f"0.0.0.0:{port}")


def test_listener_on_a_unix_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "onion.sock")
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(path)
        listener.listen()
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(path)
            accepted, _ = listener.accept()
            with accepted:
                assert arrived_on({"gunicorn.socket": accepted}, f"unix:{path}")
                assert not arrived_on({"gunicorn.socket": accepted}, "unix:/elsewhere.sock")
                assert not arrived_on({"gunicorn.socket": accepted}, "127.0.0.1:8088")
