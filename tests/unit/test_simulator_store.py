"""The CloudStack simulator's store: a list request's transaction parses each kind once, and
never serves what it read after a write (pure logic over a real SQLite file)."""
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "devtools"))

from cloudstack_simulator.store import Store  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def store(tmp_path):
    opened = Store(str(tmp_path / "state.sqlite"))
    with opened.transaction() as tx:
        tx.put("tag", {"id": "t1", "resourceid": "vm1"})
    yield opened
    opened.close()


def test_a_memo_transaction_reads_a_kind_once(store, monkeypatch):
    with store.transaction(memo=True) as tx:
        first = tx.all("tag")
        monkeypatch.setattr(tx, "_db", None)  # a second read of the kind would need the database
        again = tx.all("tag")
    assert [t["id"] for t in first] == [t["id"] for t in again] == ["t1"]
    # The caller's list is its own: changing it does not change what the next call gets.
    first.clear()


def test_a_write_in_a_memo_transaction_is_seen_by_the_next_read(store):
    with store.transaction(memo=True) as tx:
        assert [t["id"] for t in tx.all("tag")] == ["t1"]
        tx.put("tag", {"id": "t2", "resourceid": "vm2"})
        assert [t["id"] for t in tx.all("tag")] == ["t1", "t2"]
        tx.delete("tag", "t1")
        assert [t["id"] for t in tx.all("tag")] == ["t2"]


def test_a_rolled_back_savepoint_is_forgotten_too(store):
    with store.transaction(memo=True) as tx:
        with pytest.raises(RuntimeError):
            with tx.savepoint():
                tx.put("tag", {"id": "t3", "resourceid": "vm3"})
                assert len(tx.all("tag")) == 2
                raise RuntimeError("undo")
        assert [t["id"] for t in tx.all("tag")] == ["t1"]


def test_without_memo_every_read_goes_to_the_database(store, monkeypatch):
    with store.transaction() as tx:
        tx.all("tag")
        monkeypatch.setattr(tx, "_db", None)
        with pytest.raises(AttributeError):
            tx.all("tag")
