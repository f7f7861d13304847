"""One module per use case; each class's ``__call__`` is one business transaction."""

from neodyme_domain.use_cases.authenticate import (
    AuthenticateCommand,
    Authenticated,
    AuthenticateUser,
)
from neodyme_domain.use_cases.deliver_outbox import DeliverOutbox, Delivery
from neodyme_domain.use_cases.get_current_user import CurrentUserQuery, GetCurrentUser
from neodyme_domain.use_cases.get_user import GetUser, GetUserQuery
from neodyme_domain.use_cases.refresh_tokens import RefreshCommand, RefreshTokens
from neodyme_domain.use_cases.register_user import RegisterCommand, Registered, RegisterUser

__all__ = [
    "AuthenticateCommand",
    "AuthenticateUser",
    "Authenticated",
    "CurrentUserQuery",
    "DeliverOutbox",
    "Delivery",
    "GetCurrentUser",
    "GetUser",
    "GetUserQuery",
    "RefreshCommand",
    "RefreshTokens",
    "RegisterCommand",
    "RegisterUser",
    "Registered",
]
