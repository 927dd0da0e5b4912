"""The bytes a chunk of record rows is hashed in (sandbox.registry.coverage):
fixed per form, so an entry written today verifies on any later Python."""

from __future__ import annotations

import sys

import pytest

from sandbox.registry.coverage import CHUNK, FORM, Digest

ROWS = [
    ("EXP-0001", 0, None, "proposed", "2025-01-10 09:00:00.000000", "alice", "", None, 1),
    ("EXP-0001", 1, "proposed", "approved", "2025-01-10 10:00:00.000000", "carol", "agreed",
     '{"risks": "drift"}', 1),
]  # fmt: skip
# what these rows hashed to when each form was introduced; a change here
# would make every entry written in that form fail verify
PINNED = {
    1: "f5d72c1647ecd6a076a3aa85218b96757b1fce813eaed945a3af189f8bc77454",
    2: "813f4ced2564047546b90837d06a949c7985ff365676ea6e0708dffb1f093f36",
}


def digest(rows: list[tuple], form: int = FORM) -> dict:
    found = Digest(form)
    found.add(rows)
    return found.result()


@pytest.mark.parametrize("form", sorted(PINNED))
def test_each_form_gives_the_digest_it_always_gave(form: int):
    assert digest(list(ROWS), form)["digest"] == PINNED[form]


def test_new_entries_say_their_form_and_the_first_form_says_none():
    assert FORM == 2 and digest(list(ROWS))["form"] == 2
    assert "form" not in digest(list(ROWS), 1)


def test_equal_values_in_other_objects_give_the_same_digest():
    """Rows written hold one string object many times; rows read back hold
    copies. A memo would make their bytes differ."""
    shared = "exploring"
    written = [("E", n, shared, shared, None) for n in range(100)]
    read = [("E", n, "".join(["explor", "ing"]), sys.intern("exploring"), None) for n in range(100)]
    assert digest(written) == digest(read)


def test_any_changed_value_changes_the_digest():
    changed = [ROWS[0], (*ROWS[1][:5], "mallory", *ROWS[1][6:])]
    retyped = [ROWS[0], (*ROWS[1][:1], "1", *ROWS[1][2:])]  # an integer as text
    found = {digest(rows)["digest"] for rows in (list(ROWS), changed, retyped)}
    assert len(found) == 3


def test_rows_fed_in_pieces_digest_as_one_list():
    rows = [("E", n, "x", None, 3) for n in range(CHUNK * 2 + 5)]
    whole = digest(rows)
    pieces = Digest()
    for start in range(0, len(rows), 1000):
        pieces.add(rows[start : start + 1000])
    assert pieces.result() == whole and len(whole["chunks"]) == 3 and whole["count"] == len(rows)
