"""The LLM response cache: request key → JSON-able result dict, on SQLite or any Beam filesystem.

Every LLM call is cached under `schemas.llm.request_key` (a sha256 hex digest of the
canonical request), so a killed or repeated run repeats no completed call, and the
OpenAI Batch API import (`transforms.llm.batch_api.collect`) fills the same cache.

One interface, two backends:

* `SqliteCache`: one local SQLite file in WAL mode. Several threads (one lock per
  process) and several processes (SQLite file locks and `busy_timeout`) may read and
  write it at once. For local runs and the DirectRunner.
* `FileSystemCache`: one small JSON object per key at `<root>/<key[:2]>/<key>.json`
  on any Beam filesystem (a local folder or `gs://bucket/prefix`), for Dataflow,
  where workers share no disk. Each write is a whole-object create: object stores
  (GCS, S3, Azure) commit an object atomically when the writer closes; elsewhere the
  object is written under a temporary name in the same folder and renamed.

`open_cache(location)` picks the backend from the location.

Overwrite semantics: both backends are last-writer-wins (`INSERT OR REPLACE`; a
rename or object create replaces the old object). This is the one rule both backends
can honour atomically (an object-store create cannot be made conditional through
Beam's `FileSystems`), and it lets a deliberate re-run replace an entry. Two workers
racing on one key both hold valid answers to the same request, so either may win.

Secret guard: `put_many` refuses (raises `SecretInValueError`, writing nothing) when a
value's JSON contains the value of any environment variable whose name ends with
`API_KEY` or `_TOKEN` and which is at least `MIN_SECRET_CHARS` long (shorter values,
such as `none`, would match ordinary text). It is one substring scan per secret per
value, re-reading the environment on every call; it catches a key pasted verbatim,
not an encoded or split one.

Values are stored as ASCII JSON (`ensure_ascii=True`), so any string, lone
surrogates included, round-trips.
"""

__all__ = [
    "MIN_SECRET_CHARS",
    "SECRET_ENV_SUFFIXES",
    "FileSystemCache",
    "ResponseCache",
    "SecretInValueError",
    "SqliteCache",
    "find_secret_env",
    "open_cache",
]

import concurrent.futures
import json
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol


_LOG = logging.getLogger(__name__)

SECRET_ENV_SUFFIXES = ("API_KEY", "_TOKEN")
MIN_SECRET_CHARS = 8
_SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
# Beam filesystem schemes whose object create is atomic on close.
_ATOMIC_CREATE_SCHEMES = frozenset({"gs", "s3", "azfs"})
_SQL_CHUNK = 500


class ResponseCache(Protocol):
    """A key → JSON-able dict store; keys are `request_key` hex digests."""

    def get_many(self, keys: Sequence[str]) -> dict[str, dict]:
        """Returns the cached values of `keys`; keys not cached are absent."""
        ...

    def put_many(self, items: Mapping[str, dict]) -> None:
        """Stores every (key, value); a key already cached is overwritten."""
        ...

    def close(self) -> None:
        """Releases connections; the cache must not be used afterwards."""
        ...


class SecretInValueError(ValueError):
    """A value to be cached contains the value of a secret environment variable."""


def find_secret_env(text: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Returns the name of a secret environment variable whose value occurs in `text`.

    Args:
        text: the serialised value to check.
        environ: the environment to read; `os.environ` by default.

    Returns:
        The first matching variable name (ending with `API_KEY` or `_TOKEN`, value
        at least `MIN_SECRET_CHARS` long, as is or JSON-escaped), or None.
    """
    env = os.environ if environ is None else environ
    for name, secret in env.items():
        if not name.upper().endswith(SECRET_ENV_SUFFIXES) or len(secret) < MIN_SECRET_CHARS:
            continue
        if secret in text or json.dumps(secret)[1:-1] in text:
            return name
    return None


def _encode_values(items: Mapping[str, dict]) -> dict[str, str]:
    """Serialises every value to ASCII JSON, refusing any that holds a secret.

    Raises:
        SecretInValueError: a value contains a secret; nothing should be written.
        TypeError: a value is not JSON-serialisable.
    """
    encoded = {
        key: json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":")) for key, value in items.items()
    }
    for key, text in encoded.items():
        name = find_secret_env(text)
        if name is not None:
            raise SecretInValueError(f"refusing to cache key {key}: its value contains the value of ${name}")
    return encoded


def _chunks(seq: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


class SqliteCache:
    """A response cache in one local SQLite file (WAL mode, last writer wins).

    One connection per process, guarded by a lock, so one instance may be shared by
    threads; it is opened lazily and reopened after a fork. Each `put_many` is one
    `BEGIN IMMEDIATE` transaction, which waits up to `busy_timeout_s` for other
    writers.
    """

    def __init__(self, path: str | os.PathLike, busy_timeout_s: float = 60.0):
        """Creates the cache; the file and its parent folders are created on first use.

        Args:
            path: the SQLite file.
            busy_timeout_s: how long a statement waits for another process's lock.
        """
        self.path = str(path)
        self.busy_timeout_s = busy_timeout_s
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid: int | None = None

    def __getstate__(self) -> dict:
        return {"path": self.path, "busy_timeout_s": self.busy_timeout_s}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"], state["busy_timeout_s"])

    def __enter__(self) -> "SqliteCache":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _connection(self) -> sqlite3.Connection:
        """Returns this process's connection, opening it if needed; call under the lock."""
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._conn, self._pid = conn, os.getpid()
        return conn

    def get_many(self, keys: Sequence[str]) -> dict[str, dict]:
        """Returns the cached values of `keys`; keys not cached are absent."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, dict] = {}
        with self._lock:
            conn = self._connection()
            for chunk in _chunks(wanted, _SQL_CHUNK):
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(f"SELECT key, value FROM responses WHERE key IN ({marks})", tuple(chunk))
                found.update((key, json.loads(value)) for key, value in rows)
        return found

    def put_many(self, items: Mapping[str, dict]) -> None:
        """Stores every (key, value) in one transaction; existing keys are replaced.

        Raises:
            SecretInValueError: a value contains a secret; nothing is written.
        """
        if not items:
            return
        rows = list(_encode_values(items).items())
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("INSERT OR REPLACE INTO responses (key, value) VALUES (?, ?)", rows)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Closes this process's connection (a later call reopens it)."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn, self._pid = None, None


def _is_missing(path: str) -> bool:
    from apache_beam.io.filesystems import FileSystems

    return not FileSystems.exists(path)


class FileSystemCache:
    """A response cache of one JSON object per key under a Beam filesystem root.

    Layout: `<root>/<key[:2]>/<key>.json`. Reads and writes of one call run on up to
    `max_workers` threads, since each object is one round trip on GCS. A missing
    object is a miss; an unreadable one is logged and treated as a miss.
    """

    def __init__(self, root: str, max_workers: int = 16):
        """Creates the cache; nothing is touched until the first call.

        Args:
            root: a local folder or a Beam filesystem prefix such as `gs://bucket/cache`.
            max_workers: threads per `get_many` / `put_many` call.
        """
        self.root = root.rstrip("/") or "/"
        self.max_workers = max_workers

    def __enter__(self) -> "FileSystemCache":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def path_for(self, key: str) -> str:
        """Returns the object path of `key`.

        Raises:
            ValueError: the key is not a plain hex-like token (it would escape the root).
        """
        if len(key) < 2 or not key.isalnum():
            raise ValueError(f"cache keys must be alphanumeric (a sha256 hex digest), got {key!r}")
        from apache_beam.io.filesystems import FileSystems

        return FileSystems.join(self.root, key[:2], f"{key}.json")

    def _map(self, fn, keys: Sequence[str]) -> list:
        if len(keys) <= 1 or self.max_workers <= 1:
            return [fn(key) for key in keys]
        with concurrent.futures.ThreadPoolExecutor(min(self.max_workers, len(keys))) as pool:
            return list(pool.map(fn, keys))

    def _read(self, key: str) -> dict | None:
        from apache_beam.io.filesystems import CompressionTypes, FileSystems

        path = self.path_for(key)
        try:
            with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
                data = f.read()
        except Exception:  # Which error a missing object raises depends on the filesystem.
            if _is_missing(path):
                return None
            raise
        try:
            return json.loads(data)
        except ValueError:
            _LOG.warning("unreadable cache object %s treated as a miss", path)
            return None

    def get_many(self, keys: Sequence[str]) -> dict[str, dict]:
        """Returns the cached values of `keys`; keys not cached are absent."""
        wanted = list(dict.fromkeys(keys))
        values = self._map(self._read, wanted)
        return {key: value for key, value in zip(wanted, values, strict=True) if value is not None}

    def _write(self, item: tuple[str, str]) -> None:
        from apache_beam.io.filesystems import CompressionTypes, FileSystems

        key, text = item
        path = self.path_for(key)
        atomic = FileSystems.get_scheme(path) in _ATOMIC_CREATE_SCHEMES
        target = path if atomic else f"{path}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
        with FileSystems.create(
            target, mime_type="application/json", compression_type=CompressionTypes.UNCOMPRESSED
        ) as f:
            f.write(text.encode("ascii"))
        if not atomic:
            FileSystems.rename([target], [path])

    def put_many(self, items: Mapping[str, dict]) -> None:
        """Writes one object per (key, value); existing objects are replaced.

        Raises:
            SecretInValueError: a value contains a secret; nothing is written.
            ValueError: a key is not alphanumeric; nothing is written.
        """
        encoded = _encode_values(items)
        for key in encoded:
            self.path_for(key)
        self._map(self._write, list(encoded.items()))

    def close(self) -> None:
        """Nothing to release; present for the `ResponseCache` interface."""


def open_cache(location: str) -> ResponseCache:
    """Opens the cache at `location`.

    Args:
        location: a local `*.sqlite`, `*.sqlite3` or `*.db` file (→ `SqliteCache`), or
            any other local folder or Beam filesystem path such as
            `gs://bucket/prefix` (→ `FileSystemCache`).

    Returns:
        The cache.

    Raises:
        ValueError: a SQLite file name on a remote filesystem (SQLite needs a local disk).
    """
    is_sqlite = location.lower().endswith(_SQLITE_SUFFIXES)
    if "://" in location:
        if is_sqlite:
            raise ValueError(f"a SQLite cache must be a local file, got {location}")
        return FileSystemCache(location)
    return SqliteCache(location) if is_sqlite else FileSystemCache(location)
