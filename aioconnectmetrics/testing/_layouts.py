"""The layouts of `FakeConnect.populate`: which routing profiles serve which queues.

"spread": one profile per four queues, each serving a run of neighbouring queues plus
two from anywhere, so profiles link queues across the whole centre. "departments":
queues in departments, each with one profile per 12 of its queues serving 40% of them
(every queue served by one at least), none outside it. Seeded by the fake's seed and the
instance's ordinal: one seed, one centre.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Protocol

from ._records import PopulatedCentre
from ._sim import ContactCentre


class Builder(Protocol):
    """What a layout builds with (`FakeConnect` has it)."""

    seed: int

    def centre(self, instance_id: str) -> ContactCentre:
        """An instance's centre."""

    def add_queues(self, instance_id: str, n: int) -> list[str]:
        """`n` new queues' IDs."""

    def add_routing_profile(
        self, instance_id: str, queue_ids: Sequence[str], *, concurrency: Mapping[str, int]
    ) -> str:
        """A new routing profile's ID."""

    def add_agents(
        self, instance_id: str, routing_profile_id: str, n: int, *, agent_queues: bool
    ) -> list[str]:
        """`n` new agents' IDs."""


_MIXES = ({"VOICE": 1, "CHAT": 3}, {"TASK": 2})


def _concurrency(rng: random.Random) -> dict[str, int]:
    """Voice and chat, and tasks for two profiles in five."""
    return _MIXES[0] | (_MIXES[1] if rng.random() < 0.4 else {})


def spread(
    fake: Builder,
    instance_id: str,
    queues: int,
    *,
    profiles: int | None,
    agents: int,
    agent_queues: bool,
) -> PopulatedCentre:
    """The "spread" layout: `profiles` (default one per four queues) across the centre."""
    queue_ids = fake.add_queues(instance_id, queues)
    rng = random.Random(f"populate:{fake.seed}:{fake.centre(instance_id).ordinal}")
    profile_ids, agent_ids = [], []
    for index in range(profiles if profiles is not None else max(1, queues // 4)):
        # Each profile serves a run of neighbouring queues plus a few from anywhere.
        base = (index * 4) % max(1, len(queue_ids))
        served = {queue_ids[(base + k) % len(queue_ids)] for k in range(4)}
        served.update(rng.sample(queue_ids, min(2, len(queue_ids))))
        concurrency = _concurrency(rng)
        rp_id = fake.add_routing_profile(instance_id, sorted(served), concurrency=concurrency)
        profile_ids.append(rp_id)
        agent_ids += fake.add_agents(instance_id, rp_id, agents, agent_queues=agent_queues)
    return PopulatedCentre(instance_id, tuple(queue_ids), tuple(profile_ids), tuple(agent_ids))


def departments(
    fake: Builder,
    instance_id: str,
    queues: int,
    *,
    size: int,
    agents: int,
    agent_queues: bool,
) -> PopulatedCentre:
    """The "departments" layout: departments of `size` queues, profiles within each."""
    if size < 1:
        raise ValueError(f"department_size must be a whole number >= 1, got {size!r}")
    queue_ids = fake.add_queues(instance_id, queues)
    rng = random.Random(f"departments:{fake.seed}:{fake.centre(instance_id).ordinal}")
    profile_ids, agent_ids = [], []
    for start in range(0, len(queue_ids), size):
        department = queue_ids[start : start + size]
        count = max(1, len(department) // 12)
        served: list[set[str]] = [
            set(rng.sample(department, max(1, round(0.4 * len(department))))) for _ in range(count)
        ]
        for queue_id in department:
            if not any(queue_id in mine for mine in served):
                rng.choice(served).add(queue_id)
        for mine in served:
            concurrency = _concurrency(rng)
            rp_id = fake.add_routing_profile(
                instance_id, sorted(mine, key=department.index), concurrency=concurrency
            )
            profile_ids.append(rp_id)
            agent_ids += fake.add_agents(instance_id, rp_id, agents, agent_queues=agent_queues)
    return PopulatedCentre(instance_id, tuple(queue_ids), tuple(profile_ids), tuple(agent_ids))
