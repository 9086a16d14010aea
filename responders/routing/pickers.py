"""Choosing among eligible candidates. Pure functions over plain data, swappable per team."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    employee_id: int
    open_count: int
    capacity: int
    on_shift: bool
    away: bool
    languages: frozenset[str] = frozenset()
    skills: frozenset[str] = frozenset()


def eligible(
    candidates: Sequence[Candidate], *, language: str | None = None, skill: str | None = None
) -> list[Candidate]:
    """On shift, not away, below capacity, and with the language/skill when one is asked for."""
    return [
        c
        for c in candidates
        if c.on_shift
        and not c.away
        and c.open_count < c.capacity
        and (language is None or language.lower() in c.languages)
        and (skill is None or skill.lower() in c.skills)
    ]


def round_robin(candidates: Sequence[Candidate], last_assigned_id: int | None) -> Candidate | None:
    """The next candidate after the one who got the last assignment, by employee id, wrapping."""
    if not candidates:
        return None
    ordered = sorted(candidates, key=lambda c: c.employee_id)
    if last_assigned_id is None:
        return ordered[0]
    for candidate in ordered:
        if candidate.employee_id > last_assigned_id:
            return candidate
    return ordered[0]


def fewest_open(candidates: Sequence[Candidate], last_assigned_id: int | None) -> Candidate | None:
    """The candidate with the fewest open assignments; ties go to round robin order."""
    if not candidates:
        return None
    fewest = min(c.open_count for c in candidates)
    return round_robin([c for c in candidates if c.open_count == fewest], last_assigned_id)


Picker = Callable[[Sequence[Candidate], int | None], Candidate | None]
PICKERS: dict[str, Picker] = {"round_robin": round_robin, "fewest_open": fewest_open}
