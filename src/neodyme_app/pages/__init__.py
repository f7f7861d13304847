"""Server-rendered pages for people: signing in and out, the e-mailed links, the account.

They call the same use cases as the JSON API, through the same container.
"""

from neodyme_app.pages.rendering import templates
from neodyme_app.pages.router import FORM_BODY, page_router, static_files

__all__ = ["FORM_BODY", "page_router", "static_files", "templates"]
