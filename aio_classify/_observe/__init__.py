"""What the client reports about itself: log records always, OpenTelemetry spans and metrics
when ``opentelemetry-api`` is installed (``pip install "aio-classify[otel]"``).

Why a package of its own: the transport, the client and the webhook receiver each report a
little, and what they report (names, attributes, what is never recorded) must be decided once.
``plain`` is what runs without OpenTelemetry (logs only, nothing else imported); ``otel`` adds
spans and metrics through the API and is imported only if the API is there.
"""

from __future__ import annotations

from typing import Any

from .plain import CallScope, RequestWatch, RoundScope, Telemetry

__all__ = ["CallScope", "RequestWatch", "RoundScope", "Telemetry", "build_telemetry"]


def build_telemetry(
    tracer_provider: Any = None, meter_provider: Any = None, *, secret: str | None = None
) -> Telemetry:
    """OpenTelemetry reporting through the providers given (the global ones otherwise) when
    ``opentelemetry-api`` can be imported; logs only when it cannot. ``secret`` (the API key)
    never appears in what is reported."""
    try:
        from .otel import OtelTelemetry
    except ImportError:
        if tracer_provider is not None or meter_provider is not None:
            raise ImportError(
                "tracer_provider= and meter_provider= need opentelemetry-api: "
                'pip install "aio-classify[otel]"'
            ) from None
        return Telemetry(secret)
    return OtelTelemetry(tracer_provider, meter_provider, secret)
