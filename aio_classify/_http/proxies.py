"""Which proxy the client's requests go through, decided once per client.

An explicit ``proxy=`` wins; otherwise ``HTTPS_PROXY`` / ``HTTP_PROXY`` (for ``base_url``'s
scheme) unless ``NO_PROXY`` names its host, read when the client is made, with aiohttp's own
rules (``aiohttp.helpers.get_env_proxy_for_url``). Why not aiohttp's ``trust_env=True``: it looks
up the environment and ``~/.netrc`` in a worker thread on every request, and a ``.netrc`` entry
for the service's host would clash with our ``Authorization`` header; the client talks to one
origin, so one answer serves every request.

A proxy's credentials are taken out of its URL into a ``BasicAuth`` (sent only to the proxy, in
``Proxy-Authorization``), so they never reach a message, a log record or a ``repr``.
"""

from __future__ import annotations

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from attrs import field, frozen
from yarl import URL

from .._core.sanitize import redact

__all__ = ["Proxy", "choose_proxy"]


@frozen
class Proxy:
    """A proxy's address without credentials, and the credentials apart."""

    url: URL
    auth: aiohttp.BasicAuth | None = field(default=None, repr=False)

    def scrub(self, text: str) -> str:
        """``text`` without the proxy's password (as ``sanitize.redact`` takes out a key)."""
        return redact(text, self.auth.password if self.auth else None)


def choose_proxy(base_url: URL, explicit: URL | None) -> Proxy | None:
    """The proxy for requests to ``base_url``: ``explicit`` (already checked), else the
    environment's; ``None`` for a direct connection."""
    if explicit is not None:
        credentials = None
        if explicit.user is not None:
            credentials = aiohttp.BasicAuth(explicit.user, explicit.password or "")
        return Proxy(explicit.with_user(None), credentials)
    try:
        url, auth = get_env_proxy_for_url(base_url)
    except LookupError:
        return None
    return Proxy(url, auth)
