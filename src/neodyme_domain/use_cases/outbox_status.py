"""The outbox at a glance: how many e-mails wait, fail, were given up, and how late it runs."""

from __future__ import annotations

from neodyme_domain.messages import OutboxBacklog
from neodyme_domain.ports import UnitOfWork

__all__ = ["OutboxBacklog", "OutboxStatus"]


class OutboxStatus:
    """Read the outbox's backlog (``neodyme outbox status``, the metrics at scrape time).

    Meant for a read-only unit of work: it commits nothing, and a scrape or an operator's
    look must not queue behind the writers of registrations and logins.
    """

    def __init__(self, *, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self) -> OutboxBacklog:
        async with self._uow as uow:
            return await uow.outbox.backlog()
