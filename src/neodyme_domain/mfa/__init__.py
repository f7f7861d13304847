"""The second factor: TOTP (RFC 6238) authenticators, recovery codes, and the short-lived
challenge (``mfa_token``) a login waits in between its password and its code."""
