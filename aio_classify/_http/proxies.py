"""Which proxy the client's requests go through, decided once per client.

An explicit ``proxy=`` wins; otherwise ``HTTPS_PROXY`` / ``HTTP_PROXY`` (for ``base_url``'s
scheme) unless ``NO_PROXY`` names its host, read when the client is made, with aiohttp's own
rules (``aiohttp.helpers.get_env_proxy_for_url``). Why not aiohttp's ``trust_env=True``: it looks
up the environment and ``~/.netrc`` in a worker thread on every request, and a ``.netrc`` entry
for the service's host would clash with our ``Authorization`` header; the client talks to one
origin, so one answer serves every request.

A proxy's credentials are taken out of its URL into a ``Proxy-Authorization`` header, so they
never reach a message, a log record or a ``repr``. The header is built here rather than with
aiohttp's ``BasicAuth`` / ``proxy_auth=``, deprecated since aiohttp 3.14. It goes where the proxy
reads it: on the ``CONNECT`` request (``proxy_headers``) for an https service, on each request
itself for a plain http one (a loopback service), which the proxy forwards without it.
"""

from __future__ import annotations

import base64

from aiohttp.helpers import get_env_proxy_for_url
from attrs import field, frozen
from yarl import URL

from .._core.sanitize import redact

__all__ = ["Proxy", "choose_proxy"]


@frozen
class Proxy:
    """A proxy's address without credentials; the credentials apart: the header that carries
    them on the ``CONNECT`` of an https service (``connect_headers``) or on each request to an
    http one (``request_headers``), and the password to scrub from messages."""

    url: URL
    connect_headers: dict[str, str] | None = field(default=None, repr=False)
    request_headers: dict[str, str] = field(factory=dict, repr=False)
    password: str | None = field(default=None, repr=False)

    @classmethod
    def with_credentials(
        cls, url: URL, user: str | None, password: str | None, *, service: URL
    ) -> Proxy:
        """A proxy at ``url`` (without user info) reached with Basic credentials, if any, for
        requests to ``service``."""
        if user is None:
            return cls(url)
        token = base64.b64encode(f"{user}:{password or ''}".encode()).decode("ascii")
        header = {"Proxy-Authorization": f"Basic {token}"}
        if service.scheme == "https":
            return cls(url, connect_headers=header, password=password)
        return cls(url, request_headers=header, password=password)

    def scrub(self, text: str) -> str:
        """``text`` without the proxy's password (as ``sanitize.redact`` takes out a key)."""
        return redact(text, self.password)


def choose_proxy(base_url: URL, explicit: URL | None) -> Proxy | None:
    """The proxy for requests to ``base_url``: ``explicit`` (already checked), else the
    environment's; ``None`` for a direct connection."""
    if explicit is not None:
        return Proxy.with_credentials(
            explicit.with_user(None), explicit.user, explicit.password, service=base_url
        )
    try:
        url, auth = get_env_proxy_for_url(base_url)
    except LookupError:
        return None
    if auth is None:
        return Proxy(url)
    return Proxy.with_credentials(url, auth.login, auth.password, service=base_url)
