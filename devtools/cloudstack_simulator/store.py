"""The simulator's state in SQLite, so that it survives a restart (or a kill) of the process.

Every object is a JSON document of a kind ("vm", "network", ...) under its UUID, with a
sequence number standing in for CloudStack's internal long id (creation order). Each API
request runs in one transaction (BEGIN IMMEDIATE, so that two simulators sharing a file
serialise too); an async job's work runs under a savepoint, so that a failed job leaves no
half-done changes behind."""
import contextlib
import json
import sqlite3
import threading

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    id   TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    seq  INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS objects_by_kind ON objects (kind, seq);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class StoreError(Exception):
    """The state file cannot be used (another schema, not a database)."""


class Tx:
    """One transaction's view of the state. Objects are plain dicts; change one, then put() it."""

    def __init__(self, db, memo=False):
        self._db = db
        self._savepoints = 0
        # A list request renders every item with lookups in other kinds (each VM's tags, NICs;
        # each address's rules): reading and parsing a whole kind once per item made a listing
        # quadratic (1,000 VMs took over 10 s). With ``memo``, all() parses each kind once per
        # transaction; any write forgets what it read.
        self._memo = {} if memo else None

    def get(self, kind, object_id):
        if not isinstance(object_id, str):
            return None
        row = self._db.execute("SELECT body FROM objects WHERE id = ? AND kind = ?", (object_id, kind)).fetchone()
        return json.loads(row[0]) if row else None

    def all(self, kind):
        if self._memo is not None and kind in self._memo:
            return list(self._memo[kind])
        rows = self._db.execute("SELECT body FROM objects WHERE kind = ? ORDER BY seq", (kind,)).fetchall()
        objects = [json.loads(row[0]) for row in rows]
        if self._memo is not None:
            self._memo[kind] = objects
            return list(objects)
        return objects

    def _forget(self):
        if self._memo is not None:
            self._memo.clear()

    def put(self, kind, obj):
        """Inserts or replaces ``obj`` (which has an "id"); a new object gets its "seq"."""
        self._forget()
        if "seq" not in obj:
            obj["seq"] = self.next_seq(kind)
        self._db.execute(
            "INSERT INTO objects (id, kind, seq, body) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, seq = excluded.seq, body = excluded.body",
            (obj["id"], kind, obj["seq"], json.dumps(obj, sort_keys=True)),
        )
        return obj

    def delete(self, kind, object_id):
        self._forget()
        self._db.execute("DELETE FROM objects WHERE id = ? AND kind = ?", (object_id, kind))

    def next_seq(self, name):
        key = f"seq:{name}"
        value = int(self.meta(key, "0")) + 1
        self.set_meta(key, str(value))
        return value

    def meta(self, key, default=None):
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key, value):
        self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def wipe(self):
        self._forget()
        self._db.execute("DELETE FROM objects")
        self._db.execute("DELETE FROM meta")

    @contextlib.contextmanager
    def savepoint(self):
        """Undoes what the block wrote if it raises."""
        self._savepoints += 1
        name = f"sp{self._savepoints}"
        self._db.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self._forget()
            self._db.execute(f"ROLLBACK TO {name}")
            self._db.execute(f"RELEASE {name}")
            raise
        self._db.execute(f"RELEASE {name}")


class Store:
    """The SQLite file. One connection, used by one request at a time."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode = WAL")
            # FULL: a committed request is on disk before its response leaves (crash tests).
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.executescript(_SCHEMA)
            with self.transaction() as tx:
                version = tx.meta("schema_version")
                if version is None:
                    tx.set_meta("schema_version", SCHEMA_VERSION)
                elif version != SCHEMA_VERSION:
                    raise StoreError(f"{path} holds schema version {version}, this simulator speaks {SCHEMA_VERSION}; remove the file to start afresh")
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{path}: {e}") from e

    @contextlib.contextmanager
    def transaction(self, memo=False):
        """One transaction; ``memo`` for a request that reads many objects (see Tx)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._db, memo)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self):
        with self._lock:
            self._db.close()
