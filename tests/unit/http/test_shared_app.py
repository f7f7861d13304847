"""The HTTP tests share one Litestar app per settings (``serving`` in conftest.py), each
test with its own container. This holds the app to serving the container of the test that
uses it, and nothing of another test's: otherwise the tests would not be independent."""

from __future__ import annotations

from dependency_injector import providers
from litestar.testing import AsyncTestClient

from neodyme_adapters.memory import RecordingNotifier
from neodyme_app.config import Settings
from neodyme_app.container import build_container
from tests.unit.http.conftest import PASSWORD, _apps, eventually, serving


async def test_one_app_serves_each_test_its_own_container_only(settings: Settings) -> None:
    apps = []
    for _ in range(2):  # two tests in a row, with the same settings
        container = build_container(settings)
        notifier = RecordingNotifier()
        container.notifier.override(providers.Object(notifier))
        with serving(container) as app:
            apps.append(app)
            async with AsyncTestClient(app=app) as client:
                body = {"email": "same@example.com", "full_name": "Same", "password": PASSWORD}
                response = await client.post("/api/v1/auth/register", json=body)
                # 201 both times: the second test does not see the first one's account.
                assert response.status_code == 201, response.text
                await eventually(lambda notifier=notifier: len(notifier.sent) == 1)

        users = container.memory_database().state.users.values()
        assert [user.email.value for user in users] == ["same@example.com"]
        assert [message.to for message in notifier.sent] == ["same@example.com"]

    assert apps[0] is apps[1]
    served, _ = _apps[settings]
    assert served.overridden == ()  # nothing of the last test is left in the app
