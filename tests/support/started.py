"""The ``with`` protocol of the test's background parts (server, mail sink, proxy)."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Started:
    """``with part:`` starts it on entry and stops it on exit, whatever happened."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
