"""Passkeys (WebAuthn Level 2): registering them, signing in with them, managing them.

The ceremonies' cryptography (attestation, assertion signatures, origins, rp id) is the
``WebAuthnCeremonies`` port's (py_webauthn behind it); this package holds what the
service decides: which challenges are live, whose credential is whose, what a counter
going backwards means, and what gets recorded and told.
"""
