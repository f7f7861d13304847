"""The sessions table of /account: another device's session (signed in through the API,
the way a phone app would) is listed beside this one, and ended from the page; its access
token is refused from then on."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.api import PASSWORD, bearer, unique_email
from tests.e2e.conftest import Server
from tests.support.browser import expect_status, register
from tests.support.builders import a_person

OTHER_DEVICE = "NeodymeBrowserTier/1.0 (the other device)"


def test_end_another_session_from_the_account_page(page: Page, page_server: Server) -> None:
    email = unique_email("page-sessions")
    register(page, a_person().full_name, email, PASSWORD)
    with httpx.Client(base_url=page_server.base_url, timeout=30, trust_env=False) as api:
        login = api.post(
            "/api/v1/auth/login",
            json={"email": email, "password": PASSWORD},
            headers={"User-Agent": OTHER_DEVICE},
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        assert api.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200

        page.goto("/account")
        table = page.get_by_role("table").filter(has_text="This device")
        rows = table.get_by_role("row").filter(has=page.get_by_role("cell"))
        expect(rows).to_have_count(2)
        expect(rows.filter(has_text="This device")).to_have_count(1)
        other = rows.filter(has_text=OTHER_DEVICE)
        expect(other).to_have_count(1)

        other.get_by_role("button", name=re.compile(r"^End\b")).click()
        expect_status(page, "Session ended")
        expect(rows).to_have_count(1)
        expect(rows.filter(has_text=OTHER_DEVICE)).to_have_count(0)

        refused = api.get("/api/v1/auth/me", headers=bearer(token))
        assert refused.status_code == 401, refused.text
