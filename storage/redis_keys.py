"""Every Redis key, stream and channel name Parley uses, in one place.

All names start with the configured prefix (`settings.redis.key_prefix`), so several
Parley deployments can share one Redis. Sections below belong to the hub (live events,
presence, session leases and durable audio) and to the rescoring queue.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    prefix: str = "parley"

    def _name(self, *parts: str | uuid.UUID) -> str:
        return ":".join((self.prefix, *(str(p) for p in parts)))

    # hub: live events, presence, leases, durable session state

    def hub_meta(self, channel: str) -> str:
        """Hash {epoch, offset} of one event channel (`session:<id>`, `course:<id>`, ...)."""
        return self._name("hub", "ch", channel, "meta")

    def hub_stream(self, channel: str) -> str:
        """Bounded stream of a channel's recent events; entry id `<offset>-0`."""
        return self._name("hub", "ch", channel, "stream")

    def hub_live(self, channel: str) -> str:
        """Pub/sub channel carrying a channel's events live to every node."""
        return self._name("hub", "live", channel)

    def hub_node(self, node_id: str) -> str:
        """Pub/sub channel a node always listens on (keeps its subscriber connection open)."""
        return self._name("hub", "node", node_id)

    def hub_presence_nodes(self) -> str:
        """Sorted set of nodes, scored by when their presence expires (unix seconds)."""
        return self._name("hub", "presence", "nodes")

    def hub_presence(self, node_id: str) -> str:
        """Hash session_id -> live session JSON of one node; expires unless heartbeats renew it."""
        return self._name("hub", "presence", "node", node_id)

    # hub / cross-node resume: one practice session's state, audio log and ownership lease.
    # The session id sits in braces (a Redis Cluster hash tag): the store's scripts touch
    # all three keys at once.

    def session_state(self, session_id: uuid.UUID) -> str:
        """Hash: what another node needs to continue the session (see SessionState)."""
        return self._name("session", f"{{{session_id}}}", "state")

    def session_audio(self, session_id: uuid.UUID) -> str:
        """String: the accepted raw audio, appended in order."""
        return self._name("session", f"{{{session_id}}}", "audio")

    def session_lease(self, session_id: uuid.UUID) -> str:
        """String with a TTL: the owner (node and session instance) running the session."""
        return self._name("session", f"{{{session_id}}}", "lease")

    def node_control(self, node_id: str) -> str:
        """Pub/sub channel of one node's control messages: hand-off requests for the
        sessions it holds, and the replies to its own requests."""
        return self._name("node", node_id, "control")

    # rescoring queue

    def rescore_stream(self) -> str:
        """The stream of rescoring tasks, one entry per (job, session)."""
        return self._name("rescore", "tasks")

    def rescore_group(self) -> str:
        """The consumer group every `parley worker` reads the task stream through."""
        return self._name("rescore", "workers")

    def rescore_dead(self) -> str:
        """Tasks that failed `workers.max_attempts` times, with their last error."""
        return self._name("rescore", "dead")
