"""The one "same name" rule and the matcher every bulk connect uses."""

from __future__ import annotations

from piper_desktop.domain.name_match import Named, match_by_name, name_key, same_name


def test_same_name_ignores_case_a_leading_at_and_spaces() -> None:
    assert same_name(" @Anna ", "anna") and name_key("@BEN") == "ben"
    assert not same_name("anna", "anna2")


def test_pairs_unmatched_both_ways_and_ambiguity() -> None:
    accounts = [Named(1, "anna"), Named(2, "Ben"), Named(3, "carl"), Named(4, "dup"),
                Named(5, "DUP")]  # fmt: skip
    match = match_by_name(
        accounts,
        [("@ANNA", "a"), ("ben-cookies", "b"), ("anna", "a2"), ("zed", "z"), ("dup", "d")],
        aliases=("-cookies",),
    )
    assert [(a.username, item) for a, item in match.pairs] == [("anna", "a"), ("Ben", "b")]
    assert [a.username for a in match.accounts] == ["carl", "dup", "DUP"]
    assert [(u.name, u.reason) for u in match.items] == [
        ("anna", "@anna already has a match"),
        ("zed", "no account of that name"),
        ("dup", "several accounts have that name (#4, #5)"),
    ]
