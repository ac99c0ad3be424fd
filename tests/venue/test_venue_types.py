"""The venue's enums: members hash by identity (see ``venue.types.VenueEnum``) and stay
usable everywhere a member was before: as keys, in sets, through copies and pickles."""

from __future__ import annotations

import copy
import enum
import pickle

import pytest

from venue import types

ENUMS = [
    value
    for value in vars(types).values()
    if isinstance(value, enum.EnumMeta) and value is not types.VenueEnum and value is not enum.Enum
]


def test_every_venue_enum_derives_from_venue_enum() -> None:
    assert ENUMS, "no enums found in venue.types"
    plain = [kind.__name__ for kind in ENUMS if not issubclass(kind, types.VenueEnum)]
    assert not plain, f"hashed by name in Python code on every lookup: {plain}"


@pytest.mark.parametrize("kind", ENUMS, ids=lambda kind: kind.__name__)
def test_members_hash_by_identity_and_round_trip(kind: type[enum.Enum]) -> None:
    members = list(kind)
    for member in members:
        assert hash(member) == object.__hash__(member)
        assert pickle.loads(pickle.dumps(member)) is member
        assert copy.deepcopy(member) is member
    by_member = {member: member.name for member in members}
    assert [by_member[kind[name]] for name in kind.__members__] == list(kind.__members__)
    assert len(set(members)) == len(members)
