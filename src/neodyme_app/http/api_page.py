"""The interactive API page, served whole by neodyme.

Litestar's Swagger page loads its script, style sheet and icon from public CDNs, so an
operator on a network without Internet access would get a blank page. Here those files
come from the swagger-ui-py distribution (a dependency, upgraded like any other, rather
than files copied into the repository) and are served beside the page, under the schema
path. Swagger UI 5 renders OpenAPI 3.1, the version of neodyme's document.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from litestar import Router
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

SCHEMA_PATH = "/schema"
ASSETS_PATH = f"{SCHEMA_PATH}/swagger-ui"


def swagger_ui_files() -> Path:
    """The folder of Swagger UI's built files inside the installed swagger-ui-py.

    Found without importing the package: its ``__init__`` loads handlers for other web
    frameworks (and Jinja2, PyYAML), none of which the page needs.
    """
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed: the API page has no files to serve")
    return Path(spec.submodule_search_locations[0]) / "static"


def api_page_assets() -> Router:
    return create_static_files_router(
        path=ASSETS_PATH, directories=[swagger_ui_files()], name="api_page_assets"
    )


def api_page() -> SwaggerRenderPlugin:
    return SwaggerRenderPlugin(
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon=f'<link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon-32x32.png">',
    )
