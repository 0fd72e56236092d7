"""A small simulated contact centre: the state behind the fake service.

Pure and deterministic: every value is a function of the seed, the entity and the time
(a real-time snapshot index, or a 5-minute interval), unless a test set it explicitly.
No I/O and no clock of its own; callers pass the time in.

Agents serve several queues through their routing profile, so the instance-level
(ungrouped) agent counts of several queues count each agent once, and the sum of the
per-queue counts is larger, as with the real service.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from .._catalog import CHANNELS, INTERVAL_SECONDS

AGENT_STATUSES = (
    "AVAILABLE",
    "ON_CONTACT",
    "AFTER_CONTACT_WORK",
    "NON_PRODUCTIVE",
    "ERROR",
    "OFFLINE",
)
_STATUS_WEIGHTS = (30, 40, 10, 10, 2, 8)
_STAFFED = frozenset({"AVAILABLE", "ON_CONTACT", "AFTER_CONTACT_WORK", "ERROR"})
_DEFAULT_CONCURRENCY = {"VOICE": 1, "CHAT": 3, "TASK": 2, "EMAIL": 1}
INITIATIONS = ("INBOUND", "OUTBOUND", "CALLBACK", "API", "TRANSFER")
OUTCOMES = ("HANDLED", "ABANDONED", "TRANSFERRED")

_HOUR = 3600
#: A row key: (queue id or None, channel or None, routing profile id or None).
RowKey = tuple[str | None, str | None, str | None]


@attrs.define
class Queue:
    """A queue of the simulated instance."""

    id: str
    arn: str
    name: str
    queue_type: str
    channels: tuple[str, ...]
    load: float
    created_at: float


@attrs.define
class RoutingProfile:
    """A routing profile: the queues and channels (with concurrency) its agents serve."""

    id: str
    arn: str
    name: str
    queue_ids: tuple[str, ...]
    concurrency: dict[str, int]
    #: When the profile was created or its queues last changed (its LastModifiedTime).
    modified_at: float = 0.0


@attrs.define
class Agent:
    """An agent, with one routing profile and (optionally) its own AGENT queue."""

    id: str
    routing_profile_id: str
    agent_queue_id: str | None = None
    #: The user's login name, as ListUsers gives it.
    username: str = ""


@attrs.frozen
class Contact:
    """One historical contact, counted in the interval in which it was enqueued."""

    queue_id: str
    channel: str
    enqueued_at: float
    initiation: str = "INBOUND"
    outcome: str = "HANDLED"
    queue_time: float = 30.0
    interaction_time: float = 240.0
    hold_time: float = 0.0
    acw_time: float = 30.0
    agent_id: str | None = None
    consulted: bool = False
    agent_hung_up_first: bool = False
    hold_abandon: bool = False
    transferred_in: bool = False
    transferred_out: bool = False
    transferred_in_from_queue: bool = False
    transferred_out_from_queue: bool = False
    missed: int = 0

    @property
    def handled(self) -> bool:
        """Whether an agent handled the contact."""
        return self.outcome == "HANDLED"

    @property
    def queued(self) -> bool:
        """Whether the contact waited in the queue (outbound contacts do not)."""
        return self.initiation != "OUTBOUND"

    @property
    def handle_time(self) -> float:
        """Interaction, hold and after-contact work, as the service defines handle time."""
        return self.interaction_time + self.hold_time + self.acw_time


@attrs.frozen
class WaitingContacts:
    """Contacts waiting in one queue on one channel at one snapshot."""

    in_queue: int
    oldest_age: float
    scheduled: int
    estimated_wait: float | None


def _rng(*parts: object) -> random.Random:
    return random.Random(":".join(map(str, parts)))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


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
        self._rng = _rng(seed, "centre", ordinal)
        self._agents_by_queue: dict[str, set[str]] | None = None
        self._cells: dict[tuple[str, str, int], tuple[Contact, ...]] = {}

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
        queue_id = _uuid(self._rng)
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
        rp_id = _uuid(self._rng)
        profile = RoutingProfile(
            id=rp_id,
            arn=f"{self.instance_arn}/routing-profile/{rp_id}",
            name=name or f"profile-{len(self.routing_profiles) + 1:04d}",
            queue_ids=tuple(queue_ids),
            concurrency=dict(concurrency or _DEFAULT_CONCURRENCY),
            modified_at=created_at,
        )
        self.routing_profiles[rp_id] = profile
        self._agents_by_queue = None
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
        self._agents_by_queue = None

    def _check_queues(self, queue_ids: Sequence[str]) -> None:
        for queue_id in queue_ids:
            if queue_id not in self.queues:
                raise KeyError(f"unknown queue {queue_id!r}")

    def add_agent(self, routing_profile_id: str, *, agent_queue: bool = False) -> Agent:
        """Add an agent to a routing profile, with its own AGENT queue on request."""
        if routing_profile_id not in self.routing_profiles:
            raise KeyError(f"unknown routing profile {routing_profile_id!r}")
        agent = Agent(
            id=_uuid(self._rng),
            routing_profile_id=routing_profile_id,
            username=f"agent{len(self.agents) + 1:05d}",
        )
        if agent_queue:
            profile = self.routing_profiles[routing_profile_id]
            agent.agent_queue_id = self.add_queue(
                name=f"agent-{agent.id[:8]}", queue_type="AGENT", channels=profile.concurrency
            ).id
        self.agents[agent.id] = agent
        self._agents_by_queue = None
        return agent

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
        queue = self.queues[queue_id]
        rng = _rng(self.seed, "rt", queue_id, channel, snapshot)
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
        rng = _rng(self.seed, "agent", agent_id, snapshot // 4)
        status = rng.choices(AGENT_STATUSES, _STATUS_WEIGHTS)[0]
        channel = rng.choice(self.agent_channels(agent)) if status == "ON_CONTACT" else None
        return (status, channel)

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
            "AGENTS_STAFFED": _STAFFED,
        }[name]
        return float(sum(1 for s, _ in statuses if s in wanted))

    # -- historical state ------------------------------------------------------------
    def _generated(self, queue: Queue, channel: str, hour: int) -> tuple[Contact, ...]:
        """The generated contacts of one queue and channel in one hour (12 intervals)."""
        cell = (queue.id, channel, hour)
        cached = self._cells.get(cell)
        if cached is not None:
            return cached
        rng = _rng(self.seed, "hist", queue.id, channel, hour)
        serving = sorted(self.agents_by_queue().get(queue.id, ()))
        per_hour = _HOUR // INTERVAL_SECONDS
        mean = 3.0 * queue.load * self.traffic
        counts = (
            [min(int(rng.expovariate(1.0 / mean)), 20) for _ in range(per_hour)]
            if mean > 0
            else [0] * per_hour
        )
        result = tuple(
            self._contact(rng, queue, channel, hour * per_hour + offset, serving)
            for offset, count in enumerate(counts)
            for _ in range(count)
        )
        if len(self._cells) > 500_000:
            self._cells.clear()
        self._cells[cell] = result
        return result

    @staticmethod
    def _contact(
        rng: random.Random, queue: Queue, channel: str, interval: int, serving: Sequence[str]
    ) -> Contact:
        outcome = rng.choices(OUTCOMES, (80, 15, 5))[0]
        initiation = rng.choices(INITIATIONS, (70, 10, 8, 7, 5))[0]
        queue_time = 0.0 if initiation == "OUTBOUND" else float(rng.randint(1, 400))
        handled = outcome == "HANDLED"
        return Contact(
            queue_id=queue.id,
            channel=channel,
            enqueued_at=interval * INTERVAL_SECONDS + rng.uniform(0, INTERVAL_SECONDS),
            initiation=initiation,
            outcome=outcome,
            queue_time=queue_time,
            interaction_time=float(rng.randint(30, 900)) if handled else 0.0,
            hold_time=float(rng.choice((0, 0, 0, rng.randint(5, 120)))) if handled else 0.0,
            acw_time=float(rng.randint(0, 120)) if handled else 0.0,
            agent_id=rng.choice(serving) if handled and serving else None,
            consulted=rng.random() < 0.05,
            agent_hung_up_first=handled and rng.random() < 0.2,
            hold_abandon=not handled and rng.random() < 0.1,
            transferred_in=initiation == "TRANSFER",
            transferred_out=handled and rng.random() < 0.05,
            transferred_in_from_queue=initiation == "TRANSFER" and rng.random() < 0.5,
            transferred_out_from_queue=outcome == "TRANSFERRED",
            missed=rng.choice((0, 0, 0, 0, 1)),
        )

    def contacts_between(
        self,
        queue_ids: Iterable[str],
        channels: Iterable[str],
        start: float,
        end: float,
        now: float,
    ) -> list[Contact]:
        """Contacts enqueued in [start, end) and before now, in the given queues and channels."""
        end = min(end, now)
        queues = [self.queues[q] for q in queue_ids if q in self.queues]
        wanted_channels = set(channels)
        found: list[Contact] = []
        if self.simulate and end > start:
            first, last = int(start // _HOUR), math.ceil(end / _HOUR)
            for queue in queues:
                for channel in queue.channels:
                    if channel in wanted_channels:
                        for hour in range(first, last):
                            found.extend(self._generated(queue, channel, hour))
        wanted_queues = {q.id for q in queues}
        found.extend(
            c
            for c in self.contacts
            if c.queue_id in wanted_queues and c.channel in wanted_channels
        )
        return [c for c in found if start <= c.enqueued_at < end]

    def historical_rows(
        self,
        *,
        queue_ids: Sequence[str],
        channels: Sequence[str],
        groupings: Sequence[str],
        metrics: Sequence[tuple[str, float | None]],
        start: float,
        end: float,
        now: float,
    ) -> list[tuple[RowKey, dict[tuple[str, float | None], float | None]]]:
        """Compute historical rows; metrics are (name, threshold) pairs."""
        known = [q for q in dict.fromkeys(queue_ids) if q in self.queues]
        if not known:
            return []
        by_queue, by_channel = "QUEUE" in groupings, "CHANNEL" in groupings
        groups: dict[RowKey, list[Contact]] = {}
        for queue_id in known:
            for channel in self.queues[queue_id].channels:
                if channel in channels:
                    key = (queue_id if by_queue else None, channel if by_channel else None, None)
                    groups.setdefault(key, [])
        if not by_queue and not by_channel:
            groups.setdefault((None, None, None), [])
        for contact in self.contacts_between(known, channels, start=start, end=end, now=now):
            key = (
                contact.queue_id if by_queue else None,
                contact.channel if by_channel else None,
                None,
            )
            groups[key].append(contact)
        seconds = end - start
        return [
            (key, {m: historical_value(m[0], m[1], groups[key], seconds) for m in metrics})
            for key in sorted(groups, key=lambda k: tuple(x or "" for x in k))
        ]


_COUNTERS: Mapping[str, Any] = {
    "CONTACTS_QUEUED": lambda c: c.queued,
    "CONTACTS_HANDLED": lambda c: c.handled,
    "CONTACTS_ABANDONED": lambda c: c.outcome == "ABANDONED",
    "CONTACTS_HANDLED_INCOMING": lambda c: c.handled and c.initiation in ("INBOUND", "TRANSFER"),
    "CONTACTS_HANDLED_OUTBOUND": lambda c: c.handled and c.initiation == "OUTBOUND",
    "CALLBACK_CONTACTS_HANDLED": lambda c: c.handled and c.initiation == "CALLBACK",
    "API_CONTACTS_HANDLED": lambda c: c.handled and c.initiation == "API",
    "CONTACTS_CONSULTED": lambda c: c.consulted,
    "CONTACTS_AGENT_HUNG_UP_FIRST": lambda c: c.agent_hung_up_first,
    "CONTACTS_HOLD_ABANDONS": lambda c: c.hold_abandon,
    "CONTACTS_TRANSFERRED_IN": lambda c: c.transferred_in,
    "CONTACTS_TRANSFERRED_OUT": lambda c: c.transferred_out,
    "CONTACTS_TRANSFERRED_IN_FROM_QUEUE": lambda c: c.transferred_in_from_queue,
    "CONTACTS_TRANSFERRED_OUT_FROM_QUEUE": lambda c: c.transferred_out_from_queue,
}

_HANDLED_MEANS: Mapping[str, Any] = {
    "HANDLE_TIME": lambda c: c.handle_time,
    "AFTER_CONTACT_WORK_TIME": lambda c: c.acw_time,
    "INTERACTION_TIME": lambda c: c.interaction_time,
    "INTERACTION_AND_HOLD_TIME": lambda c: c.interaction_time + c.hold_time,
}


def historical_value(
    name: str, threshold: float | None, contacts: Sequence[Contact], seconds: float
) -> float | None:
    """One historical metric over a set of contacts, as the service defines it.

    `None` where a mean or ratio has no data (the service's null).
    """
    if name in _COUNTERS:
        return float(sum(1 for c in contacts if _COUNTERS[name](c)))
    if name == "CONTACTS_MISSED":
        return float(sum(c.missed for c in contacts))
    handled = [c for c in contacts if c.handled]
    if name in _HANDLED_MEANS:
        return _mean([_HANDLED_MEANS[name](c) for c in handled])
    if name == "HOLD_TIME":
        return _mean([c.hold_time for c in handled if c.hold_time > 0])
    if name == "QUEUE_ANSWER_TIME":
        return _mean([c.queue_time for c in handled if c.queued])
    if name == "ABANDON_TIME":
        return _mean([c.queue_time for c in contacts if c.outcome == "ABANDONED"])
    if name == "QUEUED_TIME":
        queued = [c.queue_time for c in contacts if c.queued]
        return max(queued) if queued else None
    if name == "SERVICE_LEVEL":
        assert threshold is not None
        left = [c for c in contacts if c.queued and c.outcome in ("HANDLED", "ABANDONED")]
        if not left:
            return None
        return 100.0 * sum(1 for c in left if c.queue_time < threshold) / len(left)
    if name == "OCCUPANCY":
        agents = {c.agent_id for c in handled if c.agent_id}
        if not agents or seconds <= 0:
            return None
        busy = sum(c.handle_time for c in handled if c.agent_id)
        return min(100.0, 100.0 * busy / (len(agents) * seconds))
    raise KeyError(name)
