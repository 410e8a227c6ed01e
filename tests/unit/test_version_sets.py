"""The version-set changes, on their own: order, no-ops, refusals and the stored form."""

from __future__ import annotations

import pytest

from cadenza.exceptions import FailedPreconditionError, InvalidArgumentError, NotFoundError
from cadenza.matching import version_sets as vs


def built() -> vs.VersionSets:
    state = vs.VersionSets()
    vs.add_new_default(state, "1.0")
    vs.add_compatible(state, "1.1", "1.0", make_set_default=False)
    vs.add_new_default(state, "2.0")
    return state


def test_a_merge_orders_build_ids_by_when_each_became_default_and_keeps_the_primary_default_last() -> None:
    state = built()
    vs.promote_within_set(state, "1.0")
    vs.add_compatible(state, "2.1", "2.0", make_set_default=False)
    vs.merge_sets(state, "1.0", "2.1")
    assert state.names() == [["1.1", "2.0", "2.1", "1.0"]]
    assert state.default() == "1.0"


def test_the_merged_set_takes_the_later_position() -> None:
    state = built()
    vs.add_new_default(state, "3.0")
    vs.merge_sets(state, "2.0", "1.0")
    assert state.names() == [["1.0", "1.1", "2.0"], ["3.0"]]


def test_asking_for_what_already_holds_changes_nothing() -> None:
    state = built()
    before = state.encode()
    vs.add_new_default(state, "2.0")
    vs.add_compatible(state, "1.1", "1.0", make_set_default=False)
    vs.promote_set(state, "2.0")
    vs.promote_within_set(state, "1.1")
    vs.merge_sets(state, "1.0", "1.1")
    assert state.encode() == before
    assert vs.VersionSets.decode(before) == state


def test_refusals() -> None:
    state = built()
    with pytest.raises(InvalidArgumentError, match=r"version 1\.1 already exists"):
        vs.add_new_default(state, "1.1")
    with pytest.raises(InvalidArgumentError, match="both versions exist and are incompatible"):
        vs.add_compatible(state, "2.0", "1.0", make_set_default=False)
    with pytest.raises(InvalidArgumentError, match="not default in set"):
        vs.add_compatible(state, "1.0", "1.1", make_set_default=False)
    with pytest.raises(InvalidArgumentError, match="not default for queue"):
        vs.add_compatible(state, "1.1", "1.0", make_set_default=True)
    with pytest.raises(NotFoundError, match="targeted version 9 not found"):
        vs.promote_set(state, "9")
    with pytest.raises(NotFoundError, match="targeted secondary version 9 not found"):
        vs.merge_sets(state, "1.0", "9")
    with pytest.raises(FailedPreconditionError, match=r"\(2/1\)"):
        vs.check_limits(state, vs.SetLimits(sets=1))
    with pytest.raises(FailedPreconditionError, match=r"build IDs .* \(3/2\)"):
        vs.check_limits(state, vs.SetLimits(build_ids=2))
