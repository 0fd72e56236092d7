"""A small simulated contact centre: the state behind the fake service.

Pure and deterministic: every value is a function of the seed, the entity and the time
(a real-time snapshot index, or a 5-minute interval), unless a test set it explicitly.
No I/O and no clock of its own; callers pass the time in.

Agents serve several queues through their routing profile, so the instance-level
(ungrouped) agent counts of several queues count each agent once, and the sum of the
per-queue counts is larger, as with the real service.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .._catalog import CHANNELS
from ._sim_model import (
    AGENT_STATUSES,
    DEFAULT_CONCURRENCY,
    MEMO_SIZE,
    STAFFED,
    STATUS_WEIGHTS,
    Agent,
    Contact,
    Queue,
    RoutingProfile,
    RowKey,
    WaitingContacts,
    historical_value,
    seeded,
    uuid_from,
)

__all__ = [
    "AGENT_STATUSES",
    "Agent",
    "Contact",
    "ContactCentre",
    "RowKey",
    "WaitingContacts",
    "historical_value",
]


class ContactCentre:
    """The simulated state of one Connect instance."""

    def __init__(
        self,
        instance_id: str,
        instance_arn: str,
        *,
        seed: int,
        ordinal: int = 0,
        simulate: bool = True,
        traffic: float = 1.0,
    ) -> None:
        self.instance_id = instance_id
        self.instance_arn = instance_arn
        self.seed = seed
        self.ordinal = ordinal
        #: When false, only what a test sets exists: no generated traffic or statuses.
        self.simulate = simulate
        #: Scales the generated contacts (1.0: about 2 per queue, channel and 5 minutes).
        self.traffic = traffic
        self.queues: dict[str, Queue] = {}
        self.routing_profiles: dict[str, RoutingProfile] = {}
        self.agents: dict[str, Agent] = {}
        self.contacts: list[Contact] = []
        self.waiting_overrides: dict[tuple[str, str], WaitingContacts] = {}
        self.status_overrides: dict[str, tuple[str, str | None]] = {}
        # Seeded by the instance's ordinal in its fake, not its (random) ID, so that one
        # seed always builds the same centre.
        self._rng = seeded(seed, "centre", ordinal)
        self._agents_by_queue: dict[str, set[str]] | None = None
        # Memos of the seeded draws (a `random.Random` seeded per agent or queue cell is
        # most of what a request costs the fake): statuses by (agent, profile, minute),
        # waiting contacts by (queue, channel, snapshot), forgotten when profiles change.
        self._statuses: dict[tuple[str, str, int], tuple[str, str | None]] = {}
        self._waiting: dict[tuple[str, str, int], WaitingContacts] = {}
        self.cells: dict[tuple[str, str, int], tuple[Contact, ...]] = {}

    # -- building --------------------------------------------------------------------
    def add_queue(
        self,
        *,
        name: str | None = None,
        queue_type: str = "STANDARD",
        channels: Iterable[str] | None = None,
        created_at: float = 0.0,
    ) -> Queue:
        """Add a queue; channels default to VOICE plus a seeded subset of the others."""
        queue_id = uuid_from(self._rng)
        if channels is None:
            channels = ["VOICE"] + [
                ch
                for ch, p in (("CHAT", 0.6), ("TASK", 0.3), ("EMAIL", 0.2))
                if self._rng.random() < p
            ]
        queue = Queue(
            id=queue_id,
            arn=f"{self.instance_arn}/queue/{queue_id}",
            name=name or f"queue-{len(self.queues) + 1:05d}",
            queue_type=queue_type,
            channels=tuple(ch for ch in CHANNELS if ch in set(channels)),
            load=self._rng.uniform(0.2, 1.5) if queue_type == "STANDARD" else 0.1,
            created_at=created_at,
        )
        self.queues[queue_id] = queue
        return queue

    def add_routing_profile(
        self,
        queue_ids: Sequence[str],
        *,
        concurrency: Mapping[str, int] | None = None,
        name: str | None = None,
        created_at: float = 0.0,
    ) -> RoutingProfile:
        """Add a routing profile serving the given queues."""
        self._check_queues(queue_ids)
        rp_id = uuid_from(self._rng)
        profile = RoutingProfile(
            id=rp_id,
            arn=f"{self.instance_arn}/routing-profile/{rp_id}",
            name=name or f"profile-{len(self.routing_profiles) + 1:04d}",
            queue_ids=tuple(queue_ids),
            concurrency=dict(concurrency or DEFAULT_CONCURRENCY),
            modified_at=created_at,
        )
        self.routing_profiles[rp_id] = profile
        self._profiles_changed()
        return profile

    def set_profile_queues(
        self, routing_profile_id: str, queue_ids: Sequence[str], *, at: float
    ) -> None:
        """Replace a routing profile's queues (its LastModifiedTime becomes `at`)."""
        if routing_profile_id not in self.routing_profiles:
            raise KeyError(f"unknown routing profile {routing_profile_id!r}")
        self._check_queues(queue_ids)
        profile = self.routing_profiles[routing_profile_id]
        profile.queue_ids = tuple(queue_ids)
        profile.modified_at = at
        self._profiles_changed()

    def _check_queues(self, queue_ids: Sequence[str]) -> None:
        for queue_id in queue_ids:
            if queue_id not in self.queues:
                raise KeyError(f"unknown queue {queue_id!r}")

    def add_agent(self, routing_profile_id: str, *, agent_queue: bool = False) -> Agent:
        """Add an agent to a routing profile, with its own AGENT queue on request."""
        if routing_profile_id not in self.routing_profiles:
            raise KeyError(f"unknown routing profile {routing_profile_id!r}")
        agent = Agent(
            id=uuid_from(self._rng),
            routing_profile_id=routing_profile_id,
            username=f"agent{len(self.agents) + 1:05d}",
        )
        if agent_queue:
            profile = self.routing_profiles[routing_profile_id]
            agent.agent_queue_id = self.add_queue(
                name=f"agent-{agent.id[:8]}", queue_type="AGENT", channels=profile.concurrency
            ).id
        self.agents[agent.id] = agent
        self._profiles_changed()
        return agent

    def _profiles_changed(self) -> None:
        self._agents_by_queue = None
        self._waiting.clear()  # whether a queue is served depends on the profiles

    def set_waiting(self, queue_id: str, channel: str, waiting: WaitingContacts) -> None:
        """Fix the contacts waiting in a queue on a channel (for every later snapshot)."""
        if channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
        self.waiting_overrides[(queue_id, channel)] = waiting

    def set_status(self, agent_id: str, status: str, channel: str | None) -> None:
        """Fix an agent's status (ON_CONTACT: on `channel`, default its profile's first)."""
        if status not in AGENT_STATUSES:
            raise ValueError(f"status must be one of {AGENT_STATUSES}, got {status!r}")
        if status == "ON_CONTACT" and channel is None:
            channel = self.agent_channels(self.agents[agent_id])[0]
        self.status_overrides[agent_id] = (status, channel)

    def agent_queues(self, agent: Agent) -> tuple[str, ...]:
        """The queues an agent serves: its profile's, and its own AGENT queue."""
        queues = self.routing_profiles[agent.routing_profile_id].queue_ids
        return (*queues, agent.agent_queue_id) if agent.agent_queue_id else queues

    def agent_channels(self, agent: Agent) -> tuple[str, ...]:
        """The channels an agent's routing profile takes contacts on."""
        return tuple(self.routing_profiles[agent.routing_profile_id].concurrency)

    def agents_by_queue(self) -> dict[str, set[str]]:
        """Index: queue ID -> IDs of the agents who serve it."""
        if self._agents_by_queue is None:
            index: dict[str, set[str]] = {}
            for agent in self.agents.values():
                for queue_id in self.agent_queues(agent):
                    index.setdefault(queue_id, set()).add(agent.id)
            self._agents_by_queue = index
        return self._agents_by_queue

    # -- real-time state -------------------------------------------------------------
    def waiting(self, queue_id: str, channel: str, snapshot: int) -> WaitingContacts:
        """Contacts waiting in a queue on a channel at a snapshot index."""
        override = self.waiting_overrides.get((queue_id, channel))
        if override is not None:
            return override
        if not self.simulate:
            return WaitingContacts(0, 0.0, 0, None)
        key = (queue_id, channel, snapshot)
        known = self._waiting.get(key)
        if known is None:
            if len(self._waiting) >= MEMO_SIZE:
                self._waiting.clear()
            known = self._waiting[key] = self._draw_waiting(queue_id, channel, snapshot)
        return known

    def _draw_waiting(self, queue_id: str, channel: str, snapshot: int) -> WaitingContacts:
        queue = self.queues[queue_id]
        rng = seeded(self.seed, "rt", queue_id, channel, snapshot)
        lam = queue.load * (1.0 if channel == "VOICE" else 0.5)
        count = min(int(rng.expovariate(1.0 / (2.0 * lam))), 25)
        oldest = float(rng.randint(1, 900)) if count else 0.0
        scheduled = rng.choice((0, 0, 0, 1, 2))
        served = any(
            channel in self.agent_channels(self.agents[a])
            for a in self.agents_by_queue().get(queue_id, ())
        )
        ewt = float(rng.randint(5, 600)) if served else None
        return WaitingContacts(count, oldest, scheduled, ewt)

    def status(self, agent_id: str, snapshot: int) -> tuple[str, str | None]:
        """An agent's status and, when on a contact, the channel of that contact."""
        override = self.status_overrides.get(agent_id)
        if override is not None:
            return override
        agent = self.agents[agent_id]
        if not self.simulate:
            return ("OFFLINE", None)
        # Statuses change about once a minute (every fourth 15-second snapshot).
        key = (agent_id, agent.routing_profile_id, snapshot // 4)
        known = self._statuses.get(key)
        if known is None:
            rng = seeded(self.seed, "agent", agent_id, snapshot // 4)
            status = rng.choices(AGENT_STATUSES, STATUS_WEIGHTS)[0]
            channel = rng.choice(self.agent_channels(agent)) if status == "ON_CONTACT" else None
            if len(self._statuses) >= MEMO_SIZE:
                self._statuses.clear()
            known = self._statuses[key] = (status, channel)
        return known

    def slots(self, agent: Agent, channel: str, snapshot: int) -> tuple[int, int]:
        """(active, available) contact slots of an agent on one channel."""
        status, active_channel = self.status(agent.id, snapshot)
        capacity = self.routing_profiles[agent.routing_profile_id].concurrency.get(channel, 0)
        if status == "AVAILABLE":
            return (0, capacity)
        if status == "ON_CONTACT" and active_channel == channel:
            return (1, capacity - 1)
        return (0, 0)

    def current_rows(
        self,
        snapshot: int,
        *,
        queue_ids: Sequence[str] | None,
        routing_profile_ids: Sequence[str] | None,
        channels: Sequence[str],
        groupings: Sequence[str],
        metrics: Sequence[str],
    ) -> list[tuple[RowKey, dict[str, float | None]]]:
        """Compute real-time rows, one per grouping key (one row when ungrouped).

        Values are in the units the metric names, except that the caller applies the
        service's ungrouped `OLDEST_CONTACT_AGE` milliseconds quirk.
        """
        by_queue, by_channel, by_profile = (
            "QUEUE" in groupings,
            "CHANNEL" in groupings,
            "ROUTING_PROFILE" in groupings,
        )
        wanted_channels = set(channels)
        if routing_profile_ids is not None:
            profiles = [
                self.routing_profiles[p] for p in routing_profile_ids if p in self.routing_profiles
            ]
            queue_scope = sorted({q for p in profiles for q in p.queue_ids})
            profile_ids = {p.id for p in profiles}
            agents = [a for a in self.agents.values() if a.routing_profile_id in profile_ids]
        else:
            queue_scope = [q for q in dict.fromkeys(queue_ids or ()) if q in self.queues]
            wanted = set(queue_scope)
            agent_ids = set().union(*(self.agents_by_queue().get(q, set()) for q in queue_scope))
            agents = [self.agents[a] for a in sorted(agent_ids)]
            profile_ids = {a.routing_profile_id for a in agents} | {
                p.id for p in self.routing_profiles.values() if wanted & set(p.queue_ids)
            }
        if not queue_scope and not agents:
            return []
        in_scope = set(queue_scope)

        contact_acc: dict[RowKey, list[float]] = {}
        ewt: dict[RowKey, float | None] = {}
        for queue_id in queue_scope:
            queue = self.queues[queue_id]
            queue_profiles = (
                [p for p in sorted(profile_ids) if queue_id in self.routing_profiles[p].queue_ids]
                if by_profile
                else [None]
            )
            for channel in queue.channels:
                if channel not in wanted_channels:
                    continue
                state = self.waiting(queue_id, channel, snapshot)
                for profile_id in queue_profiles:
                    key = (
                        queue_id if by_queue else None,
                        channel if by_channel else None,
                        profile_id,
                    )
                    acc = contact_acc.setdefault(key, [0.0, 0.0, 0.0])
                    acc[0] += state.in_queue
                    acc[1] = max(acc[1], state.oldest_age)
                    acc[2] += state.scheduled
                    ewt[key] = state.estimated_wait

        agent_acc: dict[RowKey, set[str]] = {}
        for agent in agents:
            agent_channels = [c for c in self.agent_channels(agent) if c in wanted_channels]
            if not agent_channels:
                continue
            served: list[str | None] = [None]
            if by_queue:
                # Per queue, an agent counts where it can take that queue's channels.
                served = [
                    q
                    for q in self.agent_queues(agent)
                    if q in in_scope and set(self.queues[q].channels) & set(agent_channels)
                ]
            key_channels: list[str | None] = list(agent_channels) if by_channel else [None]
            for served_queue in served:
                for key_channel in key_channels:
                    key = (
                        served_queue,
                        key_channel,
                        agent.routing_profile_id if by_profile else None,
                    )
                    agent_acc.setdefault(key, set()).add(agent.id)

        rows = []
        for key in sorted(
            set(contact_acc) | set(agent_acc), key=lambda k: tuple(x or "" for x in k)
        ):
            contacts = contact_acc.get(key, [0.0, 0.0, 0.0])
            members = [self.agents[a] for a in sorted(agent_acc.get(key, ()))]
            row_channels = [key[1]] if key[1] else sorted(wanted_channels)
            values = {
                name: self._current_value(
                    name,
                    contacts=contacts,
                    estimated_wait=ewt.get(key),
                    members=members,
                    channels=row_channels,
                    snapshot=snapshot,
                )
                for name in metrics
            }
            rows.append((key, values))
        return rows

    def _current_value(
        self,
        name: str,
        *,
        contacts: list[float],
        estimated_wait: float | None,
        members: list[Agent],
        channels: list[str],
        snapshot: int,
    ) -> float | None:
        if name == "CONTACTS_IN_QUEUE":
            return contacts[0]
        if name == "OLDEST_CONTACT_AGE":
            return contacts[1]
        if name == "CONTACTS_SCHEDULED":
            return contacts[2]
        if name == "ESTIMATED_WAIT_TIME":
            return estimated_wait
        if name in ("SLOTS_ACTIVE", "SLOTS_AVAILABLE"):
            index = 0 if name == "SLOTS_ACTIVE" else 1
            return float(sum(self.slots(a, c, snapshot)[index] for a in members for c in channels))
        statuses = [self.status(a.id, snapshot) for a in members]
        if name in ("AGENTS_ON_CALL", "AGENTS_ON_CONTACT"):
            return float(sum(1 for s, c in statuses if s == "ON_CONTACT" and c in channels))
        wanted = {
            "AGENTS_ONLINE": set(AGENT_STATUSES) - {"OFFLINE"},
            "AGENTS_AVAILABLE": {"AVAILABLE"},
            "AGENTS_NON_PRODUCTIVE": {"NON_PRODUCTIVE"},
            "AGENTS_AFTER_CONTACT_WORK": {"AFTER_CONTACT_WORK"},
            "AGENTS_ERROR": {"ERROR"},
            "AGENTS_STAFFED": STAFFED,
        }[name]
        return float(sum(1 for s, _ in statuses if s in wanted))
