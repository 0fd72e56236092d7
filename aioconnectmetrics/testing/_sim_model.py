"""The contact centre's records: queues, profiles, agents, contacts, and their metrics.

The plain data of `_sim.ContactCentre`, the seeded draws it is made of, and the
historical metrics over a set of contacts as the service defines them. Pure.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .._catalog import INTERVAL_SECONDS

AGENT_STATUSES = (
    "AVAILABLE",
    "ON_CONTACT",
    "AFTER_CONTACT_WORK",
    "NON_PRODUCTIVE",
    "ERROR",
    "OFFLINE",
)
STATUS_WEIGHTS = (30, 40, 10, 10, 2, 8)
STAFFED = frozenset({"AVAILABLE", "ON_CONTACT", "AFTER_CONTACT_WORK", "ERROR"})
DEFAULT_CONCURRENCY = {"VOICE": 1, "CHAT": 3, "TASK": 2, "EMAIL": 1}
INITIATIONS = ("INBOUND", "OUTBOUND", "CALLBACK", "API", "TRANSFER")
OUTCOMES = ("HANDLED", "ABANDONED", "TRANSFERRED")

HOUR = 3600
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


#: Entries each memo of seeded draws keeps before it starts again.
MEMO_SIZE = 200_000


def seeded(*parts: object) -> random.Random:
    return random.Random(":".join(map(str, parts)))


def uuid_from(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def draw_contact(
    rng: random.Random, queue: Queue, channel: str, interval: int, serving: Sequence[str]
) -> Contact:
    """One generated contact of a queue and channel in a 5-minute interval."""
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


COUNTERS: Mapping[str, Any] = {
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

HANDLED_MEANS: Mapping[str, Any] = {
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
    if name in COUNTERS:
        return float(sum(1 for c in contacts if COUNTERS[name](c)))
    if name == "CONTACTS_MISSED":
        return float(sum(c.missed for c in contacts))
    handled = [c for c in contacts if c.handled]
    if name in HANDLED_MEANS:
        return mean([HANDLED_MEANS[name](c) for c in handled])
    if name == "HOLD_TIME":
        return mean([c.hold_time for c in handled if c.hold_time > 0])
    if name == "QUEUE_ANSWER_TIME":
        return mean([c.queue_time for c in handled if c.queued])
    if name == "ABANDON_TIME":
        return mean([c.queue_time for c in contacts if c.outcome == "ABANDONED"])
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
