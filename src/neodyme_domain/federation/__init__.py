"""Signing in with another OpenID Connect provider, and the identities linked to accounts."""
