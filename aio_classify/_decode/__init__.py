"""Bytes and dicts into records, and records back into JSON: the one place JSON shapes live.

``conversion`` (cattrs, exact, owns every error message), ``fast_decode`` (the msgspec hot path,
identical results) and ``status_page`` (what a polling round reads of a page).
"""
