"""Operational visibility: Prometheus metrics and the health/readiness HTTP endpoints."""

from fixgw.observability.metrics import (
    GatewayMetrics,
    MetricsError,
    RejectKind,
    SessionMetrics,
    SymbolMetrics,
)
from fixgw.observability.server import (
    DEFAULT_METRICS_HOST,
    DEFAULT_METRICS_PORT,
    ObservabilityError,
    ObservabilityServer,
    ReadinessCheck,
    metrics_options,
)

__all__ = [
    "DEFAULT_METRICS_HOST",
    "DEFAULT_METRICS_PORT",
    "GatewayMetrics",
    "MetricsError",
    "ObservabilityError",
    "ObservabilityServer",
    "ReadinessCheck",
    "RejectKind",
    "SessionMetrics",
    "SymbolMetrics",
    "metrics_options",
]
