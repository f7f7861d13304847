"""The pages through Litestar's test client, driven as a browser would: it keeps cookies,
reads the CSRF token from the form it was shown, and sees every redirect (303) itself.

HTTPS, because the cookies are ``Secure`` outside development and a client keeps them for
HTTPS only.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pyotp
import pytest
from litestar.testing import AsyncTestClient

from neodyme_adapters.memory import RecordingNotifier
from neodyme_app.container import Container
from tests.unit.http.conftest import PASSWORD, eventually, serving

BASE_URL = "https://neodyme.test"
CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')
TOTP_SECRET = re.compile(r'id="totp-secret">([A-Z2-7]+)<')


class Browser:
    """A visitor: ``open`` a page, ``submit`` one of its forms."""

    def __init__(self, client: AsyncTestClient[Any]) -> None:
        self.client = client
        self.page: httpx.Response | None = None

    async def open(self, path: str) -> httpx.Response:
        self.page = await self.client.get(path, follow_redirects=False)
        return self.page

    async def submit(self, action: str, **fields: str) -> httpx.Response:
        """POST ``fields`` with the CSRF token of the page shown last, as its form would."""
        assert self.page is not None, "open a page first"
        token = CSRF_FIELD.search(self.page.text)
        assert token is not None, "the page has no form"
        response = await self.client.post(
            action, data={"_csrf_token": token.group(1), **fields}, follow_redirects=False
        )
        if response.status_code != 303:
            self.page = response
        return response

    async def follow(self, response: httpx.Response) -> httpx.Response:
        assert response.status_code == 303, response.text
        return await self.open(response.headers["location"])

    async def register(self, email: str, full_name: str = "Ada Lovelace") -> httpx.Response:
        """Create an account and land on /account."""
        await self.open("/register")
        created = await self.submit(
            "/register", full_name=full_name, email=email, password=PASSWORD
        )
        return await self.follow(created)

    async def sign_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        await self.open("/login")
        return await self.submit("/login", email=email, password=password)


@pytest.fixture
async def browser(container: Container) -> AsyncIterator[Browser]:
    with serving(container) as app:
        async with AsyncTestClient(app=app, base_url=BASE_URL) as client:
            yield Browser(client)


def messages(page: httpx.Response, role: str) -> list[str]:
    """The texts of the page's elements with ``role`` (status, alert)."""
    return [
        re.sub(r"\s+", " ", text).strip()
        for text in re.findall(rf'<[^>]+role="{role}"[^>]*>(.*?)</', page.text, re.S)
    ]


async def link_token(notifier: RecordingNotifier, kind: str, to: str) -> str:
    """The token of the last link of ``kind`` e-mailed to ``to``."""
    await eventually(lambda: any(m.kind == kind and m.to == to for m in notifier.sent))
    link = [m for m in notifier.sent if m.kind == kind and m.to == to][-1].data["link"]
    return parse_qs(urlparse(link).query)["token"][0]


class Outline(HTMLParser):
    """What the accessibility checks look at: headings, labels, controls, scripts."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.h1 = 0
        self.label_targets: set[str] = set()
        self.inputs: list[dict[str, str | None]] = []
        self.scripts: list[dict[str, str | None]] = []
        self.landmarks: set[str] = set()
        self.inline_code = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.inline_code += "style" in attributes or tag == "style"
        if any(name.startswith("on") for name in attributes):
            self.inline_code += 1  # an inline event handler
        if tag == "h1":
            self.h1 += 1
        elif tag == "label" and attributes.get("for"):
            self.label_targets.add(str(attributes["for"]))
        elif tag == "input" and attributes.get("type") != "hidden":
            self.inputs.append(attributes)
        elif tag == "script":
            self.scripts.append(attributes)
        elif tag in {"header", "main"}:
            self.landmarks.add(tag)


async def turn_on_two_factor(browser: Browser) -> tuple[str, list[str]]:
    """On the account page: set up, scan (read the secret), confirm. The secret and codes."""
    shown = await browser.submit("/account/mfa/setup", password=PASSWORD)
    assert shown.status_code == 200, shown.text
    assert 'alt="QR code for your authenticator app"' in shown.text
    assert 'src="data:image/svg+xml;base64,' in shown.text
    secret = TOTP_SECRET.search(shown.text)
    assert secret is not None
    confirmed = await browser.submit("/account/mfa/confirm", code=pyotp.TOTP(secret[1]).now())
    assert messages(confirmed, "status") == ["Two-factor sign-in is on"]
    codes = re.findall(r"<li><code>([^<]+)</code></li>", confirmed.text)
    assert 'id="recovery-codes"' in confirmed.text
    return secret[1], codes
