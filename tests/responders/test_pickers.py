"""Pickers and the eligibility filter alone, over plain data."""

from __future__ import annotations

from responders.routing.pickers import Candidate, eligible, fewest_open, round_robin


def cand(employee_id: int, open_count: int = 0, **kw) -> Candidate:
    fields = {"capacity": 5, "on_shift": True, "away": False, "languages": frozenset({"en"})}
    return Candidate(employee_id=employee_id, open_count=open_count, **{**fields, **kw})


def test_round_robin_takes_the_next_after_the_last_and_wraps() -> None:
    people = [cand(3), cand(1), cand(7)]
    assert round_robin(people, None).employee_id == 1
    assert round_robin(people, 1).employee_id == 3
    assert round_robin(people, 3).employee_id == 7
    assert round_robin(people, 7).employee_id == 1
    # The last one may have dropped out of the candidates since.
    assert round_robin(people, 5).employee_id == 7


def test_round_robin_cycles_evenly() -> None:
    people = [cand(1), cand(2), cand(3)]
    last, got = None, []
    for _ in range(6):
        last = round_robin(people, last).employee_id
        got.append(last)
    assert got == [1, 2, 3, 1, 2, 3]


def test_fewest_open_prefers_the_least_loaded_and_breaks_ties_in_turn() -> None:
    people = [cand(1, 4), cand(2, 1), cand(3, 1)]
    assert fewest_open(people, None).employee_id == 2
    assert fewest_open(people, 2).employee_id == 3
    assert fewest_open([cand(1, 0), cand(2, 3)], 1).employee_id == 1


def test_no_candidates_means_no_pick() -> None:
    assert round_robin([], 4) is None
    assert fewest_open([], None) is None


def test_eligible_filters_shift_away_capacity_language_skill() -> None:
    people = [
        cand(1),
        cand(2, on_shift=False),
        cand(3, away=True),
        cand(4, open_count=5),  # at capacity
        cand(5, languages=frozenset({"en", "de"}), skills=frozenset({"baggage"})),
    ]
    assert [c.employee_id for c in eligible(people)] == [1, 5]
    assert [c.employee_id for c in eligible(people, language="DE")] == [5]
    assert [c.employee_id for c in eligible(people, skill="baggage")] == [5]
    assert eligible(people, language="fr") == []
