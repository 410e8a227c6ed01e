"""A task queue's compatible version sets (worker versioning v0.1), and the changes to them.

The sets are ordered oldest first, so the last set is the queue's default; within a set the
last build ID is the set's default. Every build ID carries the logical time it last became
its set's default: merging two sets orders their build IDs by it (then moves the primary
set's default last), as Temporal 1.32 does. The rules and the words of the refusals are the
real server's, checked against it by ``tests/acceptance/test_version_sets_differential.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from cadenza.exceptions import FailedPreconditionError, InvalidArgumentError, NotFoundError


@dataclass
class BuildId:
    """One build ID and the logical time it last became its set's default."""

    name: str
    became_default: int


@dataclass
class VersionSets:
    """A queue's sets, oldest first; ``clock`` is the last logical time handed out."""

    sets: list[list[BuildId]] = field(default_factory=list)
    clock: int = 0

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    def find(self, name: str) -> int:
        """The index of the set holding ``name``, -1 if none does."""
        for index, members in enumerate(self.sets):
            if any(build.name == name for build in members):
                return index
        return -1

    def default(self) -> str:
        """The queue's default build ID, "" when it has no sets."""
        return self.sets[-1][-1].name if self.sets else ""

    def set_defaults(self) -> set[str]:
        """The default build ID of each set."""
        return {members[-1].name for members in self.sets}

    def names(self) -> list[list[str]]:
        return [[build.name for build in members] for members in self.sets]

    def encode(self) -> bytes:
        data = {"clock": self.clock, "sets": [[[b.name, b.became_default] for b in s] for s in self.sets]}
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes) -> VersionSets:
        data = json.loads(raw)
        sets = [[BuildId(name, int(at)) for name, at in members] for members in data["sets"]]
        return cls(sets=sets, clock=int(data["clock"]))


@dataclass(frozen=True)
class SetLimits:
    """Temporal's ``limit.versionCompatibleSetLimitPerQueue`` and ``limit.versionBuildIdLimitPerQueue``."""

    sets: int = 10
    build_ids: int = 100


def add_new_default(state: VersionSets, name: str) -> None:
    """A new set holding only ``name`` becomes the queue's default; a no-op if ``name`` is
    the queue's default already."""
    if state.find(name) != -1:
        if state.default() == name:
            return
        raise InvalidArgumentError(f"version {name} already exists")
    state.sets.append([BuildId(name, state.tick())])


def add_compatible(state: VersionSets, name: str, existing: str, make_set_default: bool) -> None:
    """``name`` becomes the default of the set holding ``existing``; that set becomes the
    queue's default too if asked."""
    target = state.find(existing)
    if target == -1:
        raise NotFoundError(f"targeted compatible_version {existing} not found")
    found = state.find(name)
    if found != -1:
        _check_already_compatible(state, name, existing, found, target, make_set_default)
        return
    state.sets[target].append(BuildId(name, state.tick()))
    if make_set_default:
        state.sets.append(state.sets.pop(target))


def _check_already_compatible(
    state: VersionSets, name: str, existing: str, found: int, target: int, make_set_default: bool
) -> None:
    """Adding a build ID again is a no-op only where it already is what was asked."""
    if found != target:
        raise InvalidArgumentError(
            f"{name} requested to be made compatible with {existing} but both versions exist and are incompatible"
        )
    if state.sets[found][-1].name != name:
        raise InvalidArgumentError(f"version {name} already exists and is not default in set")
    if make_set_default and found != len(state.sets) - 1:
        raise InvalidArgumentError(f"version {name} already exists and is not default for queue")


def promote_set(state: VersionSets, name: str) -> None:
    """The set holding ``name`` becomes the queue's default."""
    index = _located(state, name)
    state.sets.append(state.sets.pop(index))


def promote_within_set(state: VersionSets, name: str) -> None:
    """``name`` becomes its set's default."""
    members = state.sets[_located(state, name)]
    position = next(i for i, build in enumerate(members) if build.name == name)
    if position == len(members) - 1:
        return
    build = members.pop(position)
    build.became_default = state.tick()
    members.append(build)


def merge_sets(state: VersionSets, primary: str, secondary: str) -> None:
    """The secondary set joins the primary one, whose default stays the merged set's default;
    the merged set takes the later of the two positions."""
    first = state.find(primary)
    if first == -1:
        raise NotFoundError(f"targeted primary version {primary} not found")
    second = state.find(secondary)
    if second == -1:
        raise NotFoundError(f"targeted secondary version {secondary} not found")
    if first == second:
        return
    primary_default = state.sets[first][-1]
    merged = sorted(state.sets[first] + state.sets[second], key=lambda build: build.became_default)
    merged.remove(primary_default)
    merged.append(primary_default)
    later, earlier = max(first, second), min(first, second)
    state.sets[later] = merged
    del state.sets[earlier]


def _located(state: VersionSets, name: str) -> int:
    index = state.find(name)
    if index == -1:
        raise NotFoundError(f"targeted version {name} not found")
    return index


def check_limits(state: VersionSets, limits: SetLimits) -> None:
    """Refuse a change that leaves the queue with more sets or build IDs than allowed."""
    sets = len(state.sets)
    if sets > limits.sets:
        raise FailedPreconditionError(
            "update would exceed number of compatible version sets permitted in namespace "
            f"dynamic config ({sets}/{limits.sets})"
        )
    build_ids = sum(len(members) for members in state.sets)
    if build_ids > limits.build_ids:
        raise FailedPreconditionError(
            "update would exceed number of build IDs permitted in namespace dynamic config "
            f"({build_ids}/{limits.build_ids})"
        )
