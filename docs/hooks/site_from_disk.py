"""MkDocs hook: the built site works opened from disk (``file://``), not only served.

A browser opening a file does not turn ``guides/`` into ``guides/index.html``, and cannot fetch
a search index: every link between pages must name an HTML file that exists, and the search
index must be built into a script (material's ``offline`` plugin). Checked after every build,
so ``mkdocs build --strict`` (the ``docs`` nox session) fails when either breaks.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

HREF = re.compile(r'<a [^>]*href="([^"]*)"')
SEARCH_SCRIPT = Path("search") / "search_index.js"


@event_priority(-100)  # after the offline plugin has written the search script
def on_post_build(config: Any, **_: Any) -> None:
    problems = site_problems(Path(config["site_dir"]))
    if problems:
        raise PluginError("the site does not work opened from disk:\n" + "\n".join(problems))


def site_problems(site: Path) -> list[str]:
    """What would break in ``site`` opened from disk: links to a directory or to nothing, and a
    search index only a server could deliver. (``404.html`` is only ever served.)"""
    problems = [
        f"{page.relative_to(site)}: {href}"
        for page in sorted(site.rglob("*.html"))
        if page.name != "404.html"
        for href in HREF.findall(page.read_text(encoding="utf-8"))
        if not _opens_from_disk(page, href)
    ]
    if not (site / SEARCH_SCRIPT).is_file():
        problems.append(f"no {SEARCH_SCRIPT.as_posix()}: search needs a server")
    return problems


def _opens_from_disk(page: Path, href: str) -> bool:
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path:  # another site, or within the page
        return True
    return (page.parent / unquote(parts.path)).is_file()
