"""In-memory adapters for every stateful port: real transactions, no server, no disk."""

from neodyme_adapters.memory.login_monitor import RecordingLoginMonitor
from neodyme_adapters.memory.notifier import RecordingNotifier
from neodyme_adapters.memory.store import (
    InMemoryEventRecorder,
    InMemoryLoginThrottle,
    InMemoryOneTimeTokenStore,
    InMemoryOutbox,
    InMemoryRefreshTokenStore,
    InMemoryUnitOfWork,
    InMemoryUserRepository,
    MemoryDatabase,
)

__all__ = [
    "InMemoryEventRecorder",
    "InMemoryLoginThrottle",
    "InMemoryOneTimeTokenStore",
    "InMemoryOutbox",
    "InMemoryRefreshTokenStore",
    "InMemoryUnitOfWork",
    "InMemoryUserRepository",
    "MemoryDatabase",
    "RecordingLoginMonitor",
    "RecordingNotifier",
]
