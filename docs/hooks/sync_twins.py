"""MkDocs hook: the sync client's reference lists its blocking methods, read from the classes
when the site is built (they are made from the async client's at import, so static analysis
cannot see them, and a hand-kept list would drift)."""

from __future__ import annotations

import inspect
from typing import Any

from aio_classify import ClassifyClient as AsyncClient
from aio_classify import JobPager as AsyncPager
from aio_classify.sync import ClassifyClient, JobPager

MARKER = "<!-- aio_classify.sync twins -->"


def on_page_markdown(markdown: str, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, twins_table())


def twins_table() -> str:
    rows = ["| sync method | returns | async original |", "|---|---|---|"]
    for sync_class, async_class in ((ClassifyClient, AsyncClient), (JobPager, AsyncPager)):
        for name, member in vars(async_class).items():
            if name.startswith("_") or not inspect.isfunction(member):
                continue
            twin = getattr(sync_class, name)
            returns = inspect.signature(twin).return_annotation
            original = f"aio_classify.{async_class.__name__}.{name}"
            rows.append(
                f"| `{sync_class.__name__}.{name}` | `{returns}` | [`{name}`][{original}] |"
            )
    return "\n".join(rows)
