"""The interactive API page works without Internet access: every file it loads (script,
style sheet, icon) is served by neodyme itself, and it is a Swagger UI that renders 3.1."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from litestar.testing import AsyncTestClient

from neodyme_app.config import Settings
from neodyme_app.container import build_container
from tests.unit.http.conftest import serving

PAGE = "/schema/swagger"
CONTENT_TYPES = {
    ".js": {"text/javascript", "application/javascript"},
    ".css": {"text/css"},
    ".png": {"image/png"},
}


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.urls


async def test_the_page_references_no_other_host(client: Any) -> None:
    response = await client.get(PAGE)

    assert response.status_code == 200
    urls = references(response.text)
    # The page does load files of each kind: an empty list would prove nothing.
    assert {PurePosixPath(urlsplit(url).path).suffix for url in urls} == set(CONTENT_TYPES)
    assert [url for url in urls if urlsplit(url).scheme or urlsplit(url).netloc] == []


async def test_every_file_the_page_references_is_served_with_its_content_type(
    client: Any,
) -> None:
    urls = references((await client.get(PAGE)).text)

    for url in urls:
        response = await client.get(url)
        assert response.status_code == 200, url
        content_type = response.headers["content-type"].split(";")[0]
        assert content_type in CONTENT_TYPES[PurePosixPath(url).suffix], (url, content_type)
        assert response.content, url


async def test_the_served_swagger_ui_renders_openapi_3_1(client: Any) -> None:
    urls = references((await client.get(PAGE)).text)
    script = next(url for url in urls if url.endswith("/swagger-ui-bundle.js"))
    bundle = (await client.get(script)).text

    # Swagger UI reads 3.1 documents from version 5 on; an older bundle shows an error.
    version = re.search(r'PACKAGE_VERSION:"(\d+)\.', bundle)
    assert version is not None
    assert int(version.group(1)) >= 5


async def test_a_file_the_ui_does_not_ship_is_a_404_in_the_envelope(client: Any) -> None:
    response = await client.get("/schema/swagger-ui/nothing-here.js")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_with_docs_off_neither_the_page_nor_its_files_are_served(settings: Settings) -> None:
    with serving(build_container(replace(settings, docs=False))) as app:
        async with AsyncTestClient(app=app) as client:
            for path in (PAGE, "/schema/openapi.json", "/schema/swagger-ui/swagger-ui.css"):
                assert (await client.get(path)).status_code == 404, path
