"""The contact centre's history: contacts generated per queue, channel and hour.

Seeded like the rest of `_sim.ContactCentre` (the same seed, the same contacts), plus
the contacts a test added; historical rows are the metrics of those contacts
(`_sim_model.historical_value`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from .._catalog import INTERVAL_SECONDS
from ._sim import ContactCentre
from ._sim_model import HOUR, Contact, Queue, RowKey, draw_contact, historical_value, seeded


def generated(centre: ContactCentre, queue: Queue, channel: str, hour: int) -> tuple[Contact, ...]:
    """The generated contacts of one queue and channel in one hour (12 intervals)."""
    cell = (queue.id, channel, hour)
    cached = centre.cells.get(cell)
    if cached is not None:
        return cached
    rng = seeded(centre.seed, "hist", queue.id, channel, hour)
    serving = sorted(centre.agents_by_queue().get(queue.id, ()))
    per_hour = HOUR // INTERVAL_SECONDS
    mean = 3.0 * queue.load * centre.traffic
    counts = (
        [min(int(rng.expovariate(1.0 / mean)), 20) for _ in range(per_hour)]
        if mean > 0
        else [0] * per_hour
    )
    result = tuple(
        draw_contact(rng, queue, channel, hour * per_hour + offset, serving)
        for offset, count in enumerate(counts)
        for _ in range(count)
    )
    if len(centre.cells) > 500_000:
        centre.cells.clear()
    centre.cells[cell] = result
    return result


def contacts_between(
    centre: ContactCentre,
    queue_ids: Iterable[str],
    channels: Iterable[str],
    *,
    start: float,
    end: float,
    now: float,
) -> list[Contact]:
    """Contacts enqueued in [start, end) and before now, in the given queues and channels."""
    end = min(end, now)
    queues = [centre.queues[q] for q in queue_ids if q in centre.queues]
    wanted_channels = set(channels)
    found: list[Contact] = []
    if centre.simulate and end > start:
        first, last = int(start // HOUR), math.ceil(end / HOUR)
        for queue in queues:
            for channel in queue.channels:
                if channel in wanted_channels:
                    for hour in range(first, last):
                        found.extend(generated(centre, queue, channel, hour))
    wanted_queues = {q.id for q in queues}
    found.extend(
        c for c in centre.contacts if c.queue_id in wanted_queues and c.channel in wanted_channels
    )
    return [c for c in found if start <= c.enqueued_at < end]


def historical_rows(
    centre: ContactCentre,
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
    known = [q for q in dict.fromkeys(queue_ids) if q in centre.queues]
    if not known:
        return []
    by_queue, by_channel = "QUEUE" in groupings, "CHANNEL" in groupings
    groups: dict[RowKey, list[Contact]] = {}
    for queue_id in known:
        for channel in centre.queues[queue_id].channels:
            if channel in channels:
                key = (queue_id if by_queue else None, channel if by_channel else None, None)
                groups.setdefault(key, [])
    if not by_queue and not by_channel:
        groups.setdefault((None, None, None), [])
    for contact in contacts_between(centre, known, channels, start=start, end=end, now=now):
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
