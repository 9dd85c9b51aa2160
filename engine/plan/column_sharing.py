"""References that read the same rows read the union of their columns, so that one read serves them all.

A self-join of a table with the same filters and periods on both sides reads it once: the
merge then finds the second scan's rows in the first's (EXPLAIN shows ``the rows of ...``).

Example:
    >>> shared_columns([("a", "b"), ("a", "c"), ("x",)], ["t", "t", "u"])
    [('a', 'b', 'c'), ('a', 'b', 'c'), ('x',)]
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from piot.plan.state import PlanningState


def share_columns(state: PlanningState) -> PlanningState:
    """Rule: give the reads of the same rows the same column list."""
    needed = shared_columns([read.needed for read in state.reads], [read.rows_key for read in state.reads])
    return replace(state, reads=tuple(replace(read, needed=names) for read, names in zip(state.reads, needed, strict=True)))


def shared_columns(columns: Sequence[tuple[str, ...]], keys: Sequence[Hashable]) -> list[tuple[str, ...]]:
    """Each entry's columns, widened to the union (in order of first use) over the entries with the same key."""
    groups: dict[Hashable, int] = {}  # a key is hashed once: it holds every period of a read
    union: list[dict[str, None]] = []
    slots = []
    for names, key in zip(columns, keys, strict=True):
        slot = groups.setdefault(key, len(groups))
        if slot == len(union):
            union.append({})
        union[slot].update(dict.fromkeys(names))
        slots.append(slot)
    return [tuple(union[slot]) for slot in slots]
