"""The installed distribution's version, read once from its metadata.

Apart so the package's ``__version__`` and the ``User-Agent`` the transport sends read the same
value, and a layer below the package can use it without importing the package itself.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["VERSION"]

try:
    VERSION = version("aio-classify")
except PackageNotFoundError:  # imported from a source tree that was never installed
    VERSION = "0+unknown"
