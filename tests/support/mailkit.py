"""A real SMTP server for the tests (aiosmtpd), on a free loopback port: it keeps every
message it accepts, and can be started late or stopped to play an outage."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from netkit import free_port


@dataclass
class Inbox:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


@contextmanager
def smtp_server(port: int | None = None) -> Iterator[Inbox]:
    from aiosmtpd.controller import Controller

    inbox = Inbox(port or free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def smtp_settings(port: int) -> dict[str, object]:
    """Settings overrides that send to the test server (plain SMTP on loopback)."""
    return {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none",
            "mail_from": "sealbox@cases.example.org",
            "caseworker_url": "https://cases.example.org"}
