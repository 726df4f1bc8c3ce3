"""The account book: an atomic 0600 JSON file of non-secret metadata, and the active account."""

from __future__ import annotations

import json
import os
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nostr_desk.keys.accounts import Account, AccountBook, AccountsError, write_private_atomic


def pk(n: int) -> str:
    return f"{n:064x}"


def test_written_0600_and_atomically(tmp_path):
    path = tmp_path / "sub" / "accounts.json"
    book = AccountBook(path)
    book.add(Account(pk(1), "one", created=5))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["accounts.json"]  # no temporary files left
    data = json.loads(path.read_text())
    assert data == {
        "version": 1,
        "active": pk(1),
        "accounts": [{"pubkey": pk(1), "label": "one", "watch_only": False, "created": 5, "key_security": 2}],
    }


def test_a_world_readable_file_becomes_0600_on_the_next_write(tmp_path):
    path = tmp_path / "accounts.json"
    path.write_text('{"version": 1, "active": null, "accounts": []}')
    os.chmod(path, 0o644)
    AccountBook(path).add(Account(pk(2)))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_reload_keeps_order_labels_and_active(tmp_path):
    path = tmp_path / "accounts.json"
    book = AccountBook(path)
    for n in (3, 1, 2):
        book.add(Account(pk(n), f"n{n}", watch_only=n == 2, created=n))
    book.use(pk(2))
    again = AccountBook(path)
    assert [a.pubkey for a in again.accounts()] == [pk(3), pk(1), pk(2)]
    assert again.active == Account(pk(2), "n2", watch_only=True, created=2)


def test_removing_the_active_account_falls_back_to_the_first(tmp_path):
    book = AccountBook(tmp_path / "a.json")
    book.add(Account(pk(1)))
    book.add(Account(pk(2)))
    book.use(pk(2))
    book.remove(pk(2))
    assert book.active.pubkey == pk(1)
    book.remove(pk(1))
    assert book.active is None and AccountBook(tmp_path / "a.json").active is None


def test_unknown_accounts_are_errors(tmp_path):
    book = AccountBook(tmp_path / "a.json")
    for call in (book.use, book.remove):
        with pytest.raises(AccountsError):
            call(pk(9))


@pytest.mark.parametrize(
    "content",
    [
        "",
        "not json",
        "[]",
        '{"accounts": 3}',
        '{"accounts": [{"pubkey": "xyz"}]}',
        '{"accounts": [{"pubkey": "%s", "created": "yesterday"}]}' % ("ab" * 32),
        '{"accounts": [{"pubkey": "%s", "created": Infinity}]}' % ("ab" * 32),
        '{"accounts": [{"pubkey": "%s", "key_security": 7}]}' % ("ab" * 32),
        b"\xff\xfe".decode("latin-1"),
    ],
)
def test_a_damaged_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "a.json"
    path.write_text(content, encoding="latin-1")
    with pytest.raises(AccountsError, match="accounts"):
        AccountBook(path)


def test_a_stale_active_entry_is_ignored(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"version": 1, "active": pk(7), "accounts": [{"pubkey": pk(1)}]}))
    assert AccountBook(path).active.pubkey == pk(1)


def test_memory_book_writes_nothing(tmp_path):
    book = AccountBook(None)
    book.add(Account(pk(1)))
    assert book.active.pubkey == pk(1) and list(tmp_path.iterdir()) == []


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "f"
    write_private_atomic(path, b"old")
    with pytest.raises(TypeError):
        write_private_atomic(path, "not bytes")  # fails mid-write
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["f"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=70),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)
entries = st.fixed_dictionaries(
    {"pubkey": st.sampled_from([pk(1), "xyz", 5, None])},
    optional={name: json_values for name in ("label", "watch_only", "created", "key_security")},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(json_values, st.fixed_dictionaries({"accounts": st.lists(entries, max_size=3)},
                                                     optional={"active": json_values})))
def test_any_json_loads_or_is_a_clear_error(tmp_path, data):
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(data))
    try:
        book = AccountBook(path)
    except AccountsError as exc:
        assert str(path) in str(exc)
        return
    assert book.active is None or book.active in book.accounts()
