"""Composes the node's event hub: over Redis when configured, else in memory."""

from __future__ import annotations

from realtime.bus import EventBus
from realtime.bus_memory import MemoryBus
from realtime.bus_redis import RedisBus
from realtime.hub import Hub
from realtime.presence import MemoryPresence, Presence, RedisPresence
from rest.settings import Settings
from storage.redis_keys import Keys


def build_hub(settings: Settings, node_id: str) -> Hub:
    """The hub, not yet started (`await hub.start()` on the serving loop)."""
    hub_settings = settings.hub
    bus: EventBus
    presence: Presence
    if settings.redis.url:
        keys = Keys(settings.redis.key_prefix)
        redis_bus = RedisBus(
            url=settings.redis.url, keys=keys, node_id=node_id, settings=hub_settings
        )
        bus = redis_bus
        presence = RedisPresence(
            redis=redis_bus.redis, keys=keys, node_id=node_id, ttl_s=hub_settings.presence_ttl_s
        )
    else:
        bus = MemoryBus(
            max_len=hub_settings.stream_max_len, max_channels=hub_settings.memory_channels
        )
        presence = MemoryPresence()
    return Hub(bus=bus, presence=presence, settings=hub_settings, node_id=node_id)
