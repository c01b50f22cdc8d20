"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for tests.

`refuse` makes it answer every message with an SMTP error (e.g. "451 4.3.0 try later"
or "550 5.1.1 no such user"); `stop()` closes the port (a server that is down) and
`start()` opens the same port again.
"""

import asyncio
import email
import email.policy
import threading
import time
from dataclasses import dataclass

from aiosmtpd.controller import Controller

from shopkit.processes import free_port


@dataclass
class Received:
    mail_from: str
    recipients: list[str]
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, content_type: str) -> str:
        for part in self.message.walk():
            if part.get_content_type() == content_type and not part.is_multipart():
                return part.get_content()
        raise AssertionError(f"no {content_type} part")

    @property
    def text(self) -> str:
        return self.part("text/plain").replace("\r\n", "\n")

    @property
    def html(self) -> str:
        return self.part("text/html")


class SmtpSink:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.received: list[Received] = []
        self.refuse: str | None = None
        self.delay = 0.0  # seconds each message takes to accept (a slow server)
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refuse:
            return self.refuse
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def start(self) -> "SmtpSink":
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def messages(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages() if address.lower() in (r.lower() for r in m.recipients)]

    def wait_for(self, predicate, *, timeout: float = 30.0) -> list[Received]:
        """The received messages once `predicate(messages)` is true (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.messages()
            if predicate(messages):
                return messages
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; received: {[m.subject for m in messages]}")
            time.sleep(0.1)
