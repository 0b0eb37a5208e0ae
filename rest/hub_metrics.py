"""Prometheus figures of the node's event hub, read from it at each scrape."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from realtime.hub import Hub


class HubCollector(Collector):
    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def collect(self) -> Iterable[Metric]:
        hub = self._hub
        yield GaugeMetricFamily(
            "parley_hub_redis_up",
            "1 while the hub reaches Redis (always 1 for the in-memory hub).",
            value=1 if hub.available else 0,
        )
        yield CounterMetricFamily(
            "parley_hub_events_dropped",
            "Session events dropped because the publish queue was full.",
            value=hub.dropped,
        )
        yield GaugeMetricFamily(
            "parley_hub_live_sessions", "Live sessions on this node.", value=len(hub.local_live())
        )
        yield GaugeMetricFamily(
            "parley_hub_subscriptions",
            "Observer subscriptions held on this node.",
            value=hub.subscriptions,
        )
