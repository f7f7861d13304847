"""Domain errors: each situation has its own stable code from api.md."""

from __future__ import annotations

import pytest

import neodyme_domain
from neodyme_domain import DomainError

API_ERROR_CODES = {
    "VALIDATION_ERROR",
    "WEAK_PASSWORD",
    "EMAIL_ALREADY_EXISTS",
    "INVALID_CLIENT",
    "PROVIDER_NOT_FOUND",
    "PROVIDER_UNAVAILABLE",
    "FEDERATION_REFUSED",
    "PROVIDER_EMAIL_UNVERIFIED",
    "LINK_REQUIRED",
    "IDENTITY_TAKEN",
    "IDENTITY_NOT_FOUND",
    "LAST_SIGN_IN_METHOD",
    "INVALID_CREDENTIALS",
    "ACCOUNT_INACTIVE",
    "NOT_AUTHENTICATED",
    "INVALID_TOKEN",
    "TOKEN_REUSED",
    "FORBIDDEN",
    "USER_NOT_FOUND",
    "NOT_FOUND",
    "TOO_MANY_ATTEMPTS",
    "SERVICE_UNAVAILABLE",
    "MFA_REQUIRED",
    "INVALID_CODE",
    "MFA_ALREADY_ENABLED",
    # Where api.md's account-security section is silent (docs/api.md says so):
    "MFA_NOT_ENABLED",
    "MFA_SETUP_REQUIRED",
    "SESSION_NOT_FOUND",
    # Where api.md's passkeys section is silent (docs/api.md says so):
    "PASSKEY_INVALID",
    "PASSKEY_REFUSED",
    "INVALID_CHALLENGE",
    "PASSKEY_ALREADY_REGISTERED",
    "PASSKEY_NOT_FOUND",
}
"""The error codes of api.md that the domain (rather than the framework) can raise."""


def all_subclasses(cls: type[DomainError]) -> list[type[DomainError]]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(all_subclasses(sub))
    return found


ERRORS = [error for error in all_subclasses(DomainError) if "code" in vars(error)]
"""The errors that name a situation; bases without a code of their own (RetryLater) and
refinements that keep their parent's code (InvalidLink) are not listed."""


def test_the_domain_has_errors_to_check() -> None:
    assert len(ERRORS) >= 10


def test_every_domain_error_has_a_unique_code() -> None:
    codes = [error.code for error in ERRORS]

    assert len(codes) == len(set(codes)), sorted(codes)
    assert DomainError.code not in codes


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: e.__name__)
def test_every_domain_error_code_is_one_of_the_api_codes(error: type[DomainError]) -> None:
    assert error.code in API_ERROR_CODES


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: e.__name__)
def test_every_domain_error_is_exported_by_the_domain_package(error: type[DomainError]) -> None:
    assert getattr(neodyme_domain, error.__name__) is error


def test_an_error_without_a_message_uses_its_default_and_keeps_details_and_context() -> None:
    error = neodyme_domain.InvalidCredentials(context={"reason": "unknown_email"})

    assert error.message == "Invalid email or password"
    assert str(error) == "Invalid email or password"
    assert error.details == {}
    assert error.context == {"reason": "unknown_email"}


def test_validation_failed_lists_the_field_for_clients() -> None:
    error = neodyme_domain.ValidationFailed("email", "is not a valid e-mail address")

    assert error.message == "email: is not a valid e-mail address"
    assert error.details == {
        "fields": [{"field": "email", "message": "is not a valid e-mail address"}]
    }


def test_weak_password_names_each_unmet_rule_for_clients() -> None:
    error = neodyme_domain.WeakPassword(["digit", "special"])

    assert "requirements not met" in error.message
    assert error.details == {"unmet": ["digit", "special"]}
    assert error.unmet == ("digit", "special")


def test_weak_password_tells_clients_every_unmet_rule_in_one_sentence() -> None:
    error = neodyme_domain.WeakPassword(["min_length", "digit"])

    assert error.message == "Password requirements not met: min_length, digit"


@pytest.mark.parametrize(
    "error", [neodyme_domain.TooManyAttempts, neodyme_domain.ServiceUnavailable]
)
def test_an_error_to_retry_later_keeps_its_message_its_wait_and_its_context(
    error: type[neodyme_domain.RetryLater],
) -> None:
    raised = error("Slow down", retry_after=30, context={"key": "address:192.0.2.1"})

    assert raised.message == "Slow down"
    assert str(raised) == "Slow down"
    assert raised.retry_after == 30
    assert raised.details == {"retry_after": 30}
    assert raised.context == {"key": "address:192.0.2.1"}


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (neodyme_domain.TooManyAttempts, "Too many attempts; try again later"),
        (neodyme_domain.ServiceUnavailable, "The service is temporarily unavailable, please retry"),
    ],
)
def test_an_error_to_retry_later_says_one_second_and_its_default_message_unless_told(
    error: type[neodyme_domain.RetryLater], message: str
) -> None:
    raised = error()

    assert raised.message == message
    assert raised.retry_after == 1
    assert raised.details == {"retry_after": 1}
    assert raised.context == {}
