"""The hash chain of the event log (live/chain.py): canonical encoding, links, and every kind of damage."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from live.chain import HASHED, canonical, check, genesis, link

Event = dict[str, Any]
EPOCH = "epoch-1"

# Pinned by hand with sha256sum: a log written today must verify with tomorrow's code.
GENESIS_EPOCH_1 = "aa4cbc60ddcc67851fcdd5620b9c022b4fff22df56a0fd00d5057bbd1f762475"
FIRST_EVENT = {
    "seq": 1,
    "type": "score",
    "data": {"case": "a1", "criteria": {"impact": "24.5"}},
    "actor": "j1",
    "at": 1700000000000,
    "cid": "c-1",
}
FIRST_BODY = (
    '{"actor":"j1","at":1700000000000,"cid":"c-1",'
    '"data":{"case":"a1","criteria":{"impact":"24.5"}},"seq":1,"type":"score"}'
)
FIRST_HASH = "8b3fb08679ccce5a69f860161783d68d2162ee47a0dbbeb3546d95bd21b59969"


def body(n: int) -> Event:
    """The n-th event of a small final, before it is chained."""
    return {
        "type": "score" if n % 2 else "command",
        "data": {"case": f"a{n}", "criteria": {"innovation": f"{20 + n}.5", "impact": "24"}},
        "actor": f"j{n}" if n % 2 else "host",
        "at": 1_700_000_000_000 + n * 1000,
        "cid": f"cid-{n}",
    }


def chained(bodies: list[Event], epoch: str = EPOCH, seqs: list[Any] | None = None) -> list[Event]:
    """Events as a store writes them: seq, the hashed fields, prev, hash."""
    prev, out = genesis(epoch), []
    for i, b in enumerate(bodies):
        event = {"seq": seqs[i] if seqs else i + 1, **b, "prev": prev}
        event["hash"] = link(prev, event)
        prev = event["hash"]
        out.append(event)
    return out


def relinked(events: list[Event], epoch: str = EPOCH, renumber: bool = False) -> list[Event]:
    """What a careful forger does after changing the log: recompute every link (and seq)."""
    bodies = [{k: e.get(k) for k in HASHED if k != "seq"} for e in events]
    seqs = None if renumber else [e["seq"] for e in events]
    return chained(bodies, epoch, seqs)


def log(n: int = 5) -> list[Event]:
    return chained([body(i) for i in range(1, n + 1)])


# --- canonical encoding ---


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"b": 1, "a": 2}, '{"a":2,"b":1}'),
        ({"z": {"y": 1, "x": [{"b": 1, "a": 0}]}}, '{"z":{"x":[{"a":0,"b":1}],"y":1}}'),  # lists keep order
        ({"b": 0, "B": 0, "张": 0, "a": 0}, '{"B":0,"a":0,"b":0,"张":0}'),  # keys by code point
        ("张三", '"张三"'),  # no \u escapes: the hash is over the UTF-8 of the characters
        ({"名": "评委一"}, '{"名":"评委一"}'),
        ("🎉", '"🎉"'),
        ("a\nb", '"a\\nb"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("80", '"80"'),
        ("80.0", '"80.0"'),  # decimal strings are hashed as written, never normalised
        ("80.00", '"80.00"'),
        (1, "1"),
        (1.0, "1.0"),
        (True, "true"),
        (None, "null"),
        ([], "[]"),
        ({}, "{}"),
    ],
)
def test_canonical_text(value: Any, text: str) -> None:
    assert canonical(value) == text


def test_canonical_ignores_key_order_at_every_depth() -> None:
    a = {"x": 1, "y": {"p": [1, {"m": 1, "n": 2}], "q": "张"}}
    b = {"y": {"q": "张", "p": [1, {"n": 2, "m": 1}]}, "x": 1}
    assert canonical(a) == canonical(b)
    assert link("p", {"seq": 1, "data": a}) == link("p", {"data": b, "seq": 1})


def test_equal_decimals_written_differently_hash_differently() -> None:
    # "80", "80.0" and "80.00" are one number but three recorded facts: the log keeps what was sent.
    hashes = {link("p", {**FIRST_EVENT, "data": {"total": t}}) for t in ("80", "80.0", "80.00")}
    assert len(hashes) == 3


def test_canonical_refuses_a_decimal_object() -> None:
    # Scores travel and are stored as strings; a Decimal reaching the chain is a bug upstream.
    with pytest.raises(TypeError):
        canonical({"total": Decimal("80.5")})


def test_a_lone_surrogate_cannot_be_hashed() -> None:
    # The protocol refuses such frames (bad_json) before they could reach the log.
    with pytest.raises(UnicodeEncodeError):
        link(genesis(EPOCH), {**FIRST_EVENT, "data": {"note": "\ud800"}})


# --- the hash of one event ---


def test_pinned_vectors() -> None:
    assert genesis(EPOCH) == GENESIS_EPOCH_1
    assert canonical({k: FIRST_EVENT[k] for k in HASHED}) == FIRST_BODY
    assert link(GENESIS_EPOCH_1, FIRST_EVENT) == FIRST_HASH
    assert chained([{k: v for k, v in FIRST_EVENT.items() if k != "seq"}])[0]["hash"] == FIRST_HASH


def test_genesis_depends_on_the_epoch() -> None:
    assert genesis("e1") != genesis("e2")
    assert genesis("e1") == genesis("e1")
    assert len(genesis("e1")) == 64
    assert set(genesis("e1")) <= set("0123456789abcdef")


@pytest.mark.parametrize("field", HASHED)
def test_every_hashed_field_is_covered(field: str) -> None:
    edited = {**FIRST_EVENT, field: "something else"}
    assert link(GENESIS_EPOCH_1, edited) != FIRST_HASH


@pytest.mark.parametrize("field", HASHED)
def test_a_missing_field_hashes_as_null(field: str) -> None:
    without = {k: v for k, v in FIRST_EVENT.items() if k != field}
    assert link(GENESIS_EPOCH_1, without) == link(GENESIS_EPOCH_1, {**FIRST_EVENT, field: None})
    assert link(GENESIS_EPOCH_1, without) != FIRST_HASH


def test_the_hash_covers_the_previous_hash() -> None:
    assert link(genesis("other"), FIRST_EVENT) != FIRST_HASH
    assert link("0" * 64, FIRST_EVENT) != link("1" * 64, FIRST_EVENT)


def test_the_hash_covers_only_the_hashed_fields() -> None:
    # prev enters as the link, hash is the result; anything else a row carries is not covered.
    extra = {**FIRST_EVENT, "prev": "x", "hash": "y", "stored_at": 5}
    assert link(GENESIS_EPOCH_1, extra) == FIRST_HASH


# --- check on an intact chain ---


@pytest.mark.parametrize("n", [0, 1, 2, 7])
def test_an_intact_chain_checks(n: int) -> None:
    events = log(n)
    head, brk = check(EPOCH, events)
    assert brk is None
    assert head == (events[-1]["hash"] if events else genesis(EPOCH))


def test_each_event_links_to_the_one_before() -> None:
    events = log(4)
    assert events[0]["prev"] == genesis(EPOCH)
    for before, after in itertools.pairwise(events):
        assert after["prev"] == before["hash"]
        assert after["seq"] == before["seq"] + 1


def test_check_reads_any_iterable_once() -> None:
    events = log(3)
    assert check(EPOCH, iter(events)) == (events[-1]["hash"], None)
    assert check(EPOCH, (e for e in events)) == (events[-1]["hash"], None)


def test_check_does_not_change_the_events() -> None:
    events = log(3)
    before = copy.deepcopy(events)
    check(EPOCH, events)
    assert events == before


# --- check on a damaged chain ---

LINK = "its link to the event before is wrong"
EDITED = "its content does not match its hash"


def edit(i: int, field: str, value: Any) -> Callable[[list[Event]], list[Event]]:
    def damage(events: list[Event]) -> list[Event]:
        events[i - 1][field] = value
        return events

    return damage


def edit_and_rehash(i: int) -> Callable[[list[Event]], list[Event]]:
    def damage(events: list[Event]) -> list[Event]:
        e = events[i - 1]
        e["data"] = {**e["data"], "total": "99"}
        e["hash"] = link(e["prev"], e)
        return events

    return damage


def delete(i: int, renumber: bool = False) -> Callable[[list[Event]], list[Event]]:
    def damage(events: list[Event]) -> list[Event]:
        del events[i - 1]
        if renumber:
            for n, e in enumerate(events, 1):
                e["seq"] = n
        return events

    return damage


def swap(i: int, renumber: bool = False) -> Callable[[list[Event]], list[Event]]:
    def damage(events: list[Event]) -> list[Event]:
        events[i - 1], events[i] = events[i], events[i - 1]
        if renumber:
            for n, e in enumerate(events, 1):
                e["seq"] = n
        return events

    return damage


def duplicate(i: int) -> Callable[[list[Event]], list[Event]]:
    def damage(events: list[Event]) -> list[Event]:
        events.insert(i, copy.deepcopy(events[i - 1]))
        return events

    return damage


def gap(events: list[Event]) -> list[Event]:
    # Links computed across the gap, as a store that skipped a seq would write them.
    return chained([{k: e[k] for k in HASHED if k != "seq"} for e in events[:4]], seqs=[1, 2, 4, 5])


def seqs(values: list[Any]) -> Callable[[list[Event]], list[Event]]:
    return lambda events: chained([{k: e[k] for k in HASHED if k != "seq"} for e in events], seqs=values)


DAMAGE: list[tuple[str, Callable[[list[Event]], list[Event]], int, str]] = [
    # (what happened, how, where check stops, what it says)
    ("data edited", edit(3, "data", {"case": "a3", "criteria": {"impact": "30"}}), 3, EDITED),
    ("type edited", edit(3, "type", "void"), 3, EDITED),
    ("actor edited", edit(3, "actor", "j9"), 3, EDITED),
    ("time edited", edit(3, "at", 1), 3, EDITED),
    ("cid edited", edit(3, "cid", "other"), 3, EDITED),
    ("hash edited", edit(3, "hash", "0" * 64), 3, EDITED),
    ("prev edited", edit(3, "prev", "0" * 64), 3, LINK),
    ("seq edited", edit(3, "seq", 7), 3, "expected event 3, found 7"),
    ("seq made a string", edit(1, "seq", "1"), 1, "expected event 1"),
    ("first event edited", edit(1, "data", {}), 1, EDITED),
    ("last event edited", edit(5, "actor", "host"), 5, EDITED),
    ("edited and its own hash recomputed", edit_and_rehash(3), 4, LINK),
    ("middle event deleted", delete(3), 3, "expected event 3, found 4"),
    ("first event deleted", delete(1), 1, "expected event 1, found 2"),
    ("deleted and renumbered", delete(3, renumber=True), 3, LINK),
    ("first deleted and renumbered", delete(1, renumber=True), 1, LINK),
    ("two events swapped", swap(2), 2, "expected event 2, found 3"),
    ("last two swapped", swap(4), 4, "expected event 4, found 5"),
    ("swapped and renumbered", swap(2, renumber=True), 2, LINK),
    ("an event repeated", duplicate(3), 4, "expected event 4, found 3"),
    ("a gap in seq", gap, 3, "expected event 3, found 4"),
    ("seq starts at 0", seqs([0, 1, 2, 3, 4]), 1, "expected event 1, found 0"),
    ("seq counts by two", seqs([1, 3, 5, 7, 9]), 2, "expected event 2, found 3"),
    ("seq repeats", seqs([1, 2, 2, 3, 4]), 3, "expected event 3, found 2"),
]


@pytest.mark.parametrize(("what", "damage", "at", "says"), DAMAGE, ids=[d[0] for d in DAMAGE])
def test_damage_is_found_where_it_is(
    what: str, damage: Callable[[list[Event]], list[Event]], at: int, says: str
) -> None:
    damaged = damage(log(5))
    head, brk = check(EPOCH, damaged)
    assert brk is not None, what
    assert brk.seq == at
    assert says in brk.reason
    # The head returned is that of the sound prefix before the break.
    assert head == (damaged[at - 2]["hash"] if at > 1 else genesis(EPOCH))


def test_a_changed_epoch_breaks_the_first_link() -> None:
    head, brk = check("another-epoch", log(5))
    assert brk is not None
    assert brk.seq == 1
    assert LINK in brk.reason
    assert head == genesis("another-epoch")


def test_an_empty_log_cannot_vouch_for_its_epoch() -> None:
    # No event links to the genesis: any epoch checks, and only its head tells them apart.
    assert check("any", []) == (genesis("any"), None)
    assert check(EPOCH, [])[0] != check("other", [])[0]


@pytest.mark.parametrize("keep", [0, 1, 4])
def test_a_truncated_tail_needs_the_published_head(keep: int) -> None:
    intact = log(5)
    published, _ = check(EPOCH, intact)
    head, brk = check(EPOCH, intact[:keep])
    # What is left is a valid chain: check alone cannot tell it was ever longer...
    assert brk is None
    assert head == (intact[keep - 1]["hash"] if keep else genesis(EPOCH))
    # ...only the head published before (on the projector, in the export) shows the loss.
    assert head != published


def test_a_chain_rewritten_from_the_start_needs_the_published_head() -> None:
    intact = log(5)
    published, _ = check(EPOCH, intact)
    forged = copy.deepcopy(intact)
    forged[2]["data"] = {"case": "a3", "total": "100"}
    forged = relinked(forged)
    head, brk = check(EPOCH, forged)
    assert brk is None
    assert head != published


def test_a_forger_without_the_epoch_cannot_rewrite_from_the_start() -> None:
    forged = relinked(log(5), epoch="guessed")
    _, brk = check(EPOCH, forged)
    assert brk is not None
    assert brk.seq == 1


# --- properties ---

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
event_body = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["score", "command", "void", "reveal"]),
        "data": st.dictionaries(st.text(max_size=6), json_value, max_size=4),
        "actor": st.text(min_size=1, max_size=6),
        "at": st.integers(min_value=0, max_value=2**53),
        "cid": st.text(min_size=1, max_size=12),
    }
)
chains = st.lists(event_body, min_size=1, max_size=8).map(chained)
epochs = st.text(min_size=1, max_size=16)


@settings(max_examples=300, deadline=None)
@given(bodies=st.lists(event_body, max_size=8), epoch=epochs)
def test_any_chain_built_by_linking_checks(bodies: list[Event], epoch: str) -> None:
    events = chained(bodies, epoch)
    assert check(epoch, events) == ((events[-1]["hash"] if events else genesis(epoch)), None)


@settings(max_examples=500, deadline=None)
@given(events=chains, data=st.data())
def test_any_edit_of_any_field_of_any_event_is_found_at_that_event(events: list[Event], data: Any) -> None:
    i = data.draw(st.integers(min_value=0, max_value=len(events) - 1), label="event")
    field = data.draw(st.sampled_from([*HASHED, "prev", "hash"]), label="field")
    old = events[i][field]
    new = data.draw(json_value.filter(lambda v: canonical(v) != canonical(old)), label="new value")
    events[i][field] = new
    head, brk = check(EPOCH, events)
    assert brk is not None
    assert brk.seq == i + 1
    assert head == (events[i - 1]["hash"] if i else genesis(EPOCH))


@settings(max_examples=200, deadline=None)
@given(events=chains, data=st.data())
def test_any_reordering_is_found_at_the_first_moved_event(events: list[Event], data: Any) -> None:
    order = data.draw(st.permutations(range(len(events))), label="order")
    moved = [events[k] for k in order]
    first = next((n for n, k in enumerate(order) if k != n), None)
    _, brk = check(EPOCH, moved)
    if first is None:
        assert brk is None
    else:
        assert brk is not None
        assert brk.seq == first + 1


@settings(max_examples=200, deadline=None)
@given(events=chains, data=st.data())
def test_any_deletion_is_found_unless_it_takes_the_tail(events: list[Event], data: Any) -> None:
    gone = data.draw(st.sets(st.integers(0, len(events) - 1), min_size=1), label="deleted")
    kept = [e for n, e in enumerate(events) if n not in gone]
    head, brk = check(EPOCH, kept)
    first = min(gone)
    if all(n in gone for n in range(first, len(events))):  # only a tail went: a valid shorter chain
        assert brk is None
        assert head == (events[first - 1]["hash"] if first else genesis(EPOCH))
        assert head != events[-1]["hash"]
    else:
        assert brk is not None
        assert brk.seq == first + 1
