"""The Litestar HTTP front end: ``create_app(container)`` builds the application."""

from neodyme_app.http.app import create_app

__all__ = ["create_app"]
