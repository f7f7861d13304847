"""A notifier that keeps what it was asked to send: for tests and in-process demos."""

from __future__ import annotations

from neodyme_domain.messages import EmailMessage


class RecordingNotifier:
    """``sent`` lists delivered messages; set ``failure`` to make every send raise it."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.attempts = 0
        self.failure: Exception | None = None

    async def send(self, message: EmailMessage) -> None:
        self.attempts += 1
        if self.failure is not None:
            raise self.failure
        self.sent.append(message)
