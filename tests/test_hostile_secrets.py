"""The API key stays secret from the moment it is given: a key or ``base_url`` that would leak
or break is refused at construction without being echoed, and the fake server's request log
never shows credentials."""

from __future__ import annotations

import pytest

from aio_classify import ClassifyClient
from aio_classify.testing import FakeClassifyServer

SECRET = "sk-very-secret-key"


@pytest.mark.parametrize(
    "key",
    [
        SECRET + "\n",
        SECRET + " ",
        " " + SECRET,
        SECRET + "\t",
        "sk-a\x00b",
        "sk-\x1b[2J",
        "sk\u2028x",
    ],
)
def test_a_key_with_whitespace_or_control_characters_is_refused_unechoed(key: str) -> None:
    with pytest.raises(ValueError, match="api_key contains whitespace or a control") as caught:
        ClassifyClient(key)
    assert key.strip() not in str(caught.value)


def test_a_key_from_the_environment_with_a_newline_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLAMA_CLOUD_API_KEY", SECRET + "\n")
    with pytest.raises(ValueError, match="api_key") as caught:
        ClassifyClient()
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "base_url",
    [
        "https://user:hunter2-password@api.example.com",
        "https://hunter2-password@api.example.com",
        "http://user:hunter2-password@127.0.0.1:8080",
        "https://user:hunter2-password@api.example.com:443/prefix",
    ],
)
def test_a_base_url_with_user_info_is_refused_unechoed(base_url: str) -> None:
    with pytest.raises(ValueError, match="user info") as caught:
        ClassifyClient(SECRET, base_url=base_url)
    assert "hunter2" not in str(caught.value)


def test_a_base_url_with_user_info_from_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLAMA_CLOUD_BASE_URL", "https://u:hunter2-password@api.example.com")
    with pytest.raises(ValueError, match="user info") as caught:
        ClassifyClient(SECRET)
    assert "hunter2" not in str(caught.value)


async def test_the_fake_servers_request_log_shows_no_credentials() -> None:
    async with FakeClassifyServer(api_key=SECRET) as server:
        async with ClassifyClient(SECRET, base_url=server.url) as client:
            await client.list_jobs().first_page()
        (request,) = server.requests
    assert SECRET not in repr(server.requests)
    assert request.headers["Authorization"] == "Bearer [redacted]"
    assert request.authorized


def test_the_key_is_in_no_repr() -> None:
    client = ClassifyClient(SECRET)
    assert SECRET not in repr(client)
    assert SECRET not in repr(client._transport)
