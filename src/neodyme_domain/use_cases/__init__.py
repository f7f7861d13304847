"""One module per use case; each class's ``__call__`` is one business transaction."""

from neodyme_domain.use_cases.authenticate import (
    AuthenticateCommand,
    Authenticated,
    AuthenticateUser,
)
from neodyme_domain.use_cases.change_password import ChangePassword, ChangePasswordCommand
from neodyme_domain.use_cases.delete_account import DeleteAccount, DeleteAccountCommand
from neodyme_domain.use_cases.deliver_outbox import DeadLetter, DeliverOutbox, Delivery
from neodyme_domain.use_cases.find_user import FindUserByEmail, FindUserQuery
from neodyme_domain.use_cases.get_current_user import CurrentUserQuery, GetCurrentUser
from neodyme_domain.use_cases.get_user import GetUser, GetUserQuery
from neodyme_domain.use_cases.links import LinkSettings
from neodyme_domain.use_cases.list_security_events import ListSecurityEvents, SecurityEventsQuery
from neodyme_domain.use_cases.list_users import ListUsers, ListUsersQuery
from neodyme_domain.use_cases.logout import Logout, LogoutCommand
from neodyme_domain.use_cases.outbox_status import OutboxBacklog, OutboxStatus
from neodyme_domain.use_cases.purge_throttle import PurgeExpiredThrottles
from neodyme_domain.use_cases.refresh_tokens import RefreshCommand, RefreshTokens
from neodyme_domain.use_cases.register_user import RegisterCommand, Registered, RegisterUser
from neodyme_domain.use_cases.request_password_reset import (
    PasswordResetRequest,
    RequestPasswordReset,
)
from neodyme_domain.use_cases.request_verification import RequestVerification, VerificationRequest
from neodyme_domain.use_cases.reset_password import ResetPassword, ResetPasswordCommand
from neodyme_domain.use_cases.retry_outbox import RetryOutbox
from neodyme_domain.use_cases.seed_realistic_users import (
    RealisticSeedCommand,
    SeededAccount,
    SeedRealisticUsers,
)
from neodyme_domain.use_cases.seed_users import SeedCommand, SeedUsers
from neodyme_domain.use_cases.set_user_active import SetUserActive, SetUserActiveCommand
from neodyme_domain.use_cases.update_profile import UpdateProfile, UpdateProfileCommand
from neodyme_domain.use_cases.verify_email import VerifyEmail, VerifyEmailCommand

__all__ = [
    "AuthenticateCommand",
    "AuthenticateUser",
    "Authenticated",
    "ChangePassword",
    "ChangePasswordCommand",
    "CurrentUserQuery",
    "DeadLetter",
    "DeleteAccount",
    "DeleteAccountCommand",
    "DeliverOutbox",
    "Delivery",
    "FindUserByEmail",
    "FindUserQuery",
    "GetCurrentUser",
    "GetUser",
    "GetUserQuery",
    "LinkSettings",
    "ListSecurityEvents",
    "ListUsers",
    "ListUsersQuery",
    "Logout",
    "LogoutCommand",
    "OutboxBacklog",
    "OutboxStatus",
    "PasswordResetRequest",
    "PurgeExpiredThrottles",
    "RealisticSeedCommand",
    "RefreshCommand",
    "RefreshTokens",
    "RegisterCommand",
    "RegisterUser",
    "Registered",
    "RequestPasswordReset",
    "RequestVerification",
    "ResetPassword",
    "ResetPasswordCommand",
    "RetryOutbox",
    "SecurityEventsQuery",
    "SeedCommand",
    "SeedRealisticUsers",
    "SeedUsers",
    "SeededAccount",
    "SetUserActive",
    "SetUserActiveCommand",
    "UpdateProfile",
    "UpdateProfileCommand",
    "VerificationRequest",
    "VerifyEmail",
    "VerifyEmailCommand",
]
