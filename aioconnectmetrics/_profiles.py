"""Agents counted once at the loop's price: the routing-profile map, and the plan it allows.

Pure. An agent has one routing profile and serves every queue of it (besides an AGENT
queue of their own). With the map of which queues each profile serves
(SearchRoutingProfiles' ``AssociatedQueueIds``), the agent metrics of a batch of queues
are the sum over the profiles that serve any of its queues, so over several batches

    distinct agents = sum over batches of the batch's value
                      - sum over shared profiles of (batches it reaches - 1) x its value

where a shared profile is one whose queues fall in more than one batch. The batches ask
every metric in one request each, as a loop over 100-queue batches does, and only the
shared profiles are asked apart: by routing profile, 100 a request. `plan_agents` orders
the queues so that a profile's queues fall in one batch where they can (fewer shared
profiles), and keeps the plan only when it costs fewer requests than asking each
batch's agents apart (`_plan.AgentSplit`). `counted_once` does the arithmetic, exact
when every request it uses answered from one snapshot, and checks the answer against
the map: a value the map cannot explain says the map is out of date.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

import attrs

from ._catalog import MAX_QUEUES_PER_REQUEST, Scope
from ._merge import BatchAnswer, Row, RowKey
from ._plan import Batch, agent_split, plan_batches
from ._request import MetricsRequest

#: Routing profiles per request of the shared profiles' agent metrics (the service's limit).
PROFILES_PER_REQUEST = 100


@attrs.frozen
class ProfileMap:
    """Which queues each routing profile of an instance serves, as of `versions`.

    Attributes:
        queues_of: routing profile ID -> the IDs of the queues it serves.
        standard: the instance's STANDARD queues when the map was made.
        versions: routing profile ID -> its ``LastModifiedTime`` (ListRoutingProfiles),
            what tells later whether a profile changed since.
    """

    instance_id: str
    queues_of: Mapping[str, tuple[str, ...]]
    standard: frozenset[str]
    versions: Mapping[str, float]
    served: frozenset[str] = attrs.field(init=False)

    @served.default
    def _served(self) -> frozenset[str]:
        return frozenset(q for queues in self.queues_of.values() for q in queues)

    def knows(self, queue_ids: Iterable[str]) -> bool:
        """Whether every queue is one the map accounts for.

        A queue the map does not know (an AGENT queue, whose agent serves it whatever
        their profile; a queue made after the map) may bring agents of profiles that do
        not serve it: such a request is counted without the map.
        """
        known = self.standard | self.served
        return all(q in known for q in queue_ids)

    def profiles_of(self, queue_ids: Iterable[str]) -> frozenset[str]:
        """The routing profiles that serve any of these queues."""
        wanted = set(queue_ids)
        return frozenset(p for p, queues in self.queues_of.items() if wanted.intersection(queues))


@attrs.frozen
class AgentPlan:
    """Queue batches asking every metric, and the shared profiles asked apart.

    Attributes:
        batches: the queue batches, each asking the caller's metrics (agents included).
        touching: per batch (by position), the routing profiles that serve its queues.
        profile_batches: the shared profiles (those reaching more than one batch), at
            most 100 a request, asked for their agent metrics by routing profile.
        how: ``"as asked"`` (the caller's queue order) or ``"grouped"`` (reordered so
            that a profile's queues share a batch where they can).
    """

    batches: tuple[Batch, ...]
    touching: tuple[frozenset[str], ...]
    profile_batches: tuple[tuple[str, ...], ...]
    how: str

    @property
    def requests(self) -> int:
        """First pages the plan sends: one per queue batch and per profile batch."""
        return len(self.batches) + len(self.profile_batches)

    @property
    def shared(self) -> frozenset[str]:
        """The profiles asked apart."""
        return frozenset(p for ids in self.profile_batches for p in ids)


def shared_profiles_request(request: MetricsRequest) -> MetricsRequest:
    """What the shared profiles are asked: agent metrics, by routing profile.

    By channel too when the rows carry it; under the request's channel filter.
    """
    split = agent_split(request, 2)
    assert split is not None, "a plan is made only for a request that needs one"
    return attrs.evolve(split.request, queue_ids=None, all_queues=False, routing_profile_ids=())


def needs_map(request: MetricsRequest) -> bool:
    """Whether `request` counts agents over several queue batches (where a map helps)."""
    return agent_split(request, len(plan_batches(request))) is not None


def plan_agents(
    request: MetricsRequest, profiles: ProfileMap, size: int = MAX_QUEUES_PER_REQUEST
) -> AgentPlan | None:
    """The cheapest plan the map allows, or None where asking each batch apart is cheaper.

    None too when the map does not know every queue of the request (`ProfileMap.knows`).
    """
    both = plans_of(request, profiles, size)
    if both is None:
        return None
    asked, grouped = both
    best = min((asked, grouped), key=lambda p: (p.requests, p.how != "as asked"))
    return best if best.requests < requests_of_split(len(asked.batches)) else None


def plans_of(
    request: MetricsRequest, profiles: ProfileMap, size: int = MAX_QUEUES_PER_REQUEST
) -> tuple[AgentPlan, AgentPlan] | None:
    """The plan in the caller's order and the regrouped one; None: the map cannot plan."""
    queues = request.partition_ids
    if not needs_map(request) or not profiles.knows(queues):
        return None
    return (
        _plan(queues, profiles, size, "as asked"),
        _plan(_grouped(queues, profiles, size), profiles, size, "grouped"),
    )


def _plan(queues: Sequence[str], profiles: ProfileMap, size: int, how: str) -> AgentPlan:
    batches = tuple(
        Batch(i, tuple(queues[start : start + size]))
        for i, start in enumerate(range(0, len(queues), size))
    )
    touching = tuple(profiles.profiles_of(b.ids) for b in batches)
    reach: dict[str, int] = {}
    for found in touching:
        for profile in found:
            reach[profile] = reach.get(profile, 0) + 1
    shared = sorted(p for p, n in reach.items() if n > 1)
    return AgentPlan(
        batches,
        touching,
        tuple(
            tuple(shared[i : i + PROFILES_PER_REQUEST])
            for i in range(0, len(shared), PROFILES_PER_REQUEST)
        ),
        how,
    )


def _grouped(queues: Sequence[str], profiles: ProfileMap, size: int) -> list[str]:
    """The queues reordered so that queues linked by a profile share a batch if they can.

    Queues linked through profiles form groups (connected components). Groups that fit
    a batch are packed whole, largest first, into the first batch with room; a larger
    group is cut in the order its profiles reach its queues, so that most profiles stay
    within one cut. Queues without a profile fill what room is left.
    """
    wanted = dict.fromkeys(queues)
    parent = {q: q for q in wanted}

    def root(q: str) -> str:
        while parent[q] != q:
            parent[q] = parent[parent[q]]
            q = parent[q]
        return q

    members: dict[str, list[str]] = {}  # profile -> its queues among the asked ones
    for profile in sorted(profiles.queues_of):
        mine = [q for q in profiles.queues_of[profile] if q in wanted]
        if mine:
            members[profile] = mine
            for q in mine[1:]:
                parent[root(q)] = root(mine[0])
    groups: dict[str, list[str]] = {}
    for q in wanted:
        groups.setdefault(root(q), []).append(q)
    bins: list[list[str]] = []
    loose: list[str] = []
    for group in sorted(groups.values(), key=len, reverse=True):
        if len(group) == 1:
            loose += group
            continue
        rest = group
        if len(group) > size:
            ordered = _by_profile(group, members)
            whole = len(ordered) - len(ordered) % size
            bins += [ordered[i : i + size] for i in range(0, whole, size)]
            rest = ordered[whole:]
            if not rest:
                continue
        for room in bins:
            if len(room) + len(rest) <= size:
                room.extend(rest)
                break
        else:
            bins.append(list(rest))
    for q in loose:
        for room in bins:
            if len(room) < size:
                room.append(q)
                break
        else:
            bins.append([q])
    return [q for room in bins for q in room]


def _by_profile(group: list[str], members: Mapping[str, list[str]]) -> list[str]:
    """A large group's queues, profile by profile (breadth first), each queue once."""
    in_group = set(group)
    by_queue: dict[str, list[str]] = {}
    for profile, mine in members.items():
        if in_group.intersection(mine):
            for q in mine:
                by_queue.setdefault(q, []).append(profile)
    order: dict[str, None] = {}
    seen: set[str] = set()
    for start in group:
        if start in order:
            continue
        frontier = [start]
        while frontier:
            q = frontier.pop(0)
            if q in order:
                continue
            order[q] = None
            for profile in by_queue.get(q, ()):
                if profile not in seen:
                    seen.add(profile)
                    frontier += [n for n in members[profile] if n not in order]
    return list(order)


@attrs.frozen
class Counted:
    """`counted_once`'s rows, and whether the answer contradicted the map."""

    rows: list[Row]
    contradicted: bool


def counted_once(
    request: MetricsRequest,
    rows: Sequence[Row],
    answers: Sequence[BatchAnswer],
    profile_answers: Sequence[BatchAnswer] | None,
    plan: AgentPlan,
) -> Counted:
    """The merged rows with their agent metrics counted once (see the module).

    `answers`: the queue batches that answered; `profile_answers`: the shared profiles'
    requests (None: one of them failed, and the agent values stay the batches' sum,
    approximate, between the largest batch and the sum). A value is exact when every
    request it uses answered from one snapshot. A value the map cannot explain (below
    the largest batch's, above their sum, or a profile counting more agents than a batch
    it serves) marks the answer as contradicting the map, and stays approximate.
    """
    agent_keys = [m.key for m in request.metrics if request.spec(m).scope is Scope.AGENT]
    if profile_answers is None or not agent_keys:
        return Counted(list(rows), contradicted=False)
    reach: dict[str, int] = {}
    for answer in answers:
        for profile in plan.touching[answer.index]:
            reach[profile] = reach.get(profile, 0) + 1
    by_profile: dict[tuple[str | None, str | None], Mapping[str, float | None]] = {}
    for answer in profile_answers:
        for row in answer.rows:
            if row.key[2] is not None:
                by_profile[(row.key[1], row.key[2])] = row.values
    snapshots = {t for a in (*answers, *profile_answers) for t in a.snapshots}
    one_moment = len(snapshots) <= 1
    batch_rows: dict[RowKey, list[tuple[int, Row]]] = {}
    for answer in answers:
        for row in answer.rows:
            batch_rows.setdefault(row.key, []).append((answer.index, row))
    shared = plan.shared
    contradicted = False
    # row position -> metric -> (counted, largest batch, sum of batches)
    counts: dict[int, dict[str, tuple[float, float, float]]] = {}
    for position, row in enumerate(rows):
        found = batch_rows.get(row.key, [])
        channel = row.key[1]
        for metric in agent_keys:
            if not any(r.values.get(metric) is not None for _, r in found):
                continue  # no batch had data: the merge's None stands
            per_batch = {i: r.values.get(metric) or 0.0 for i, r in found}
            total = sum(per_batch.values())
            surplus = 0.0
            for answer in answers:
                for profile in plan.touching[answer.index] & shared:
                    value = by_profile.get((channel, profile), {}).get(metric) or 0.0
                    # A profile's agents serve every batch it reaches: never more there.
                    contradicted |= one_moment and value > per_batch.get(answer.index, 0.0)
            for profile in shared:
                if reach.get(profile, 0) > 1:
                    value = by_profile.get((channel, profile), {}).get(metric) or 0.0
                    surplus += (reach[profile] - 1) * value
            largest = max(per_batch.values(), default=0.0)
            counted = total - surplus
            contradicted |= one_moment and not largest <= counted <= total
            counts.setdefault(position, {})[metric] = (counted, largest, total)
    out = []
    for position, row in enumerate(rows):
        values = dict(row.values)
        approximate = dict(row.approximate)
        for metric, (counted, largest, total) in counts.get(position, {}).items():
            if contradicted:
                values[metric] = total
                approximate[metric] = (largest, total)
            elif one_moment:
                values[metric] = counted
                approximate.pop(metric, None)
            else:
                # Parts of several moments: a number that may have been true at none.
                values[metric] = counted
                approximate[metric] = None
        out.append(
            row._replace(values=values, approximate=MappingProxyType(approximate), origin=None)
        )
    return Counted(out, contradicted)


def requests_of_split(batches: int) -> int:
    """First pages of asking each batch's agents apart (`_plan.AgentSplit`)."""
    return 2 * batches


def requests_of_profiles(profiles: int, batches: int) -> int:
    """First pages of asking every serving profile apart (the batches ask no agents)."""
    return batches + math.ceil(profiles / PROFILES_PER_REQUEST)
