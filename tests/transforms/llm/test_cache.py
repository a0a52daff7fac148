import hashlib
import json
import multiprocessing
import pickle
import sqlite3
import threading

import pytest

from transforms.llm.cache import (
    FileSystemCache,
    SecretInValueError,
    SqliteCache,
    find_secret_env,
    open_cache,
)


def key(text):
    return hashlib.sha256(str(text).encode("utf-8", "surrogatepass")).hexdigest()


def result(text, **extra):
    return {"text": text, "error": None, "detail": "", "prompt_tokens": 3, "completion_tokens": 4, **extra}


def make_cache(kind, tmp_path):
    if kind == "sqlite":
        return SqliteCache(tmp_path / "deep" / "folder" / "cache.sqlite")
    return FileSystemCache(str(tmp_path / "fs-cache"))


@pytest.fixture(params=["sqlite", "filesystem"])
def cache(request, tmp_path):
    c = make_cache(request.param, tmp_path)
    yield c
    c.close()


def test_round_trip_and_missing_keys(cache):
    items = {key(i): result(f"answer {i}") for i in range(5)}
    cache.put_many(items)
    wanted = [key(0), key(3), key("absent"), key(3)]
    assert cache.get_many(wanted) == {key(0): items[key(0)], key(3): items[key(3)]}
    assert cache.get_many([]) == {}
    assert cache.get_many([key("absent")]) == {}
    cache.put_many({})


def test_error_values_and_nested_json_round_trip(cache):
    value = {"text": None, "error": "bad_request", "detail": "HTTP 400: bad", "nested": {"a": [1, 2.5, True, None]}}
    cache.put_many({key("err"): value})
    assert cache.get_many([key("err")]) == {key("err"): value}


def test_overwrite_last_writer_wins(cache):
    cache.put_many({key("a"): result("first"), key("b"): result("kept")})
    cache.put_many({key("a"): result("second")})
    assert cache.get_many([key("a"), key("b")]) == {key("a"): result("second"), key("b"): result("kept")}


def test_unicode_round_trips(cache):
    texts = ["héllo wörld", "日本語のコード", "emoji 🐍🚀", 'tab\tnew\nline "q" \\', "lone \ud800 surrogate", "\x00nul"]
    items = {key(t): result(t) for t in texts}
    cache.put_many(items)
    assert cache.get_many(list(items)) == items


def test_values_survive_reopening(tmp_path):
    for kind in ("sqlite", "filesystem"):
        first = make_cache(kind, tmp_path)
        first.put_many({key(kind): result(kind)})
        first.close()
        second = make_cache(kind, tmp_path)
        assert second.get_many([key(kind)]) == {key(kind): result(kind)}
        second.close()


def test_secret_guard_refuses_whole_batch(cache, monkeypatch):
    secret = "sk-test-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    with pytest.raises(SecretInValueError, match="OPENAI_API_KEY") as info:
        cache.put_many({key("ok"): result("fine"), key("bad"): result(f"the key is {secret}!")})
    assert secret not in str(info.value)
    assert cache.get_many([key("ok"), key("bad")]) == {}


def test_find_secret_env_rules():
    env = {
        "HF_TOKEN": "hf_abcdefghijkl",
        "MY_API_KEY": "none",
        "OTHER": "sk-visible-but-not-secret",
        "X_API_KEY": 'ab"cdefghij',
    }
    assert find_secret_env("token hf_abcdefghijkl here", env) == "HF_TOKEN"
    assert find_secret_env("none of these", env) is None  # too short to be a secret
    assert find_secret_env("sk-visible-but-not-secret", env) is None  # name is not secret-like
    assert find_secret_env(json.dumps({"t": 'ab"cdefghij'}), env) == "X_API_KEY"  # JSON-escaped form


def test_open_cache_picks_backend(tmp_path):
    for name in ("c.sqlite", "c.sqlite3", "c.db", "C.DB"):
        assert isinstance(open_cache(str(tmp_path / name)), SqliteCache)
    assert isinstance(open_cache(str(tmp_path / "folder")), FileSystemCache)
    assert isinstance(open_cache("gs://bucket/prefix/cache"), FileSystemCache)
    with pytest.raises(ValueError, match="local"):
        open_cache("gs://bucket/cache.sqlite")


def test_sqlite_is_wal_creates_folders_and_pickles(tmp_path):
    path = tmp_path / "a" / "b" / "cache.db"
    cache = SqliteCache(path)
    cache.put_many({key(1): result("one")})
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert [r[0] for r in conn.execute("SELECT key FROM responses")] == [key(1)]
    clone = pickle.loads(pickle.dumps(cache))
    assert clone.get_many([key(1)]) == {key(1): result("one")}
    cache.close()
    clone.close()


def test_filesystem_layout_and_no_temp_files(tmp_path):
    cache = FileSystemCache(str(tmp_path / "root"))
    k = key("layout")
    cache.put_many({k: result("x")})
    cache.put_many({k: result("y")})
    files = sorted(p.relative_to(tmp_path / "root") for p in (tmp_path / "root").rglob("*") if p.is_file())
    assert [str(p) for p in files] == [f"{k[:2]}/{k}.json"]
    assert json.loads((tmp_path / "root" / k[:2] / f"{k}.json").read_text()) == result("y")


def test_filesystem_corrupt_object_is_a_miss_and_bad_keys_refused(tmp_path):
    cache = FileSystemCache(str(tmp_path / "root"))
    k = key("corrupt")
    (tmp_path / "root" / k[:2]).mkdir(parents=True)
    (tmp_path / "root" / k[:2] / f"{k}.json").write_text('{"text": "trunc')
    assert cache.get_many([k]) == {}
    with pytest.raises(ValueError, match="alphanumeric"):
        cache.put_many({"../escape": result("x")})


def _writer(kind, root, worker, n_keys):
    cache = SqliteCache(root) if kind == "sqlite" else FileSystemCache(root)
    items = {}
    for i in range(n_keys):
        # Half the keys are shared by all writers, half are this writer's own.
        k = key(f"shared-{i}") if i % 2 == 0 else key(f"own-{worker}-{i}")
        items[k] = result(f"w{worker}-{i}", worker=worker)
    chunk = list(items.items())
    for start in range(0, len(chunk), 25):
        cache.put_many(dict(chunk[start : start + 25]))
        cache.get_many([k for k, _ in chunk[: start + 25]])
    cache.close()


def _expected_keys(workers, n_keys):
    shared = {key(f"shared-{i}") for i in range(0, n_keys, 2)}
    own = {key(f"own-{w}-{i}") for w in range(workers) for i in range(1, n_keys, 2)}
    return shared, own


@pytest.mark.parametrize("kind", ["sqlite", "filesystem"])
def test_concurrent_processes(kind, tmp_path):
    root = str(tmp_path / ("cache.sqlite" if kind == "sqlite" else "fs"))
    workers, n_keys = 4, 200
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(kind, root, w, n_keys)) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * workers
    shared, own = _expected_keys(workers, n_keys)
    cache = open_cache(root)
    got = cache.get_many(sorted(shared | own))
    cache.close()
    assert set(got) == shared | own
    for i in range(0, n_keys, 2):
        value = got[key(f"shared-{i}")]
        assert value == result(f"w{value['worker']}-{i}", worker=value["worker"])
    if kind == "filesystem":
        files = [p for p in (tmp_path / "fs").rglob("*") if p.is_file()]
        assert len(files) == len(shared | own)
        assert all(p.suffix == ".json" for p in files)
        for p in files:
            json.loads(p.read_text())


@pytest.mark.parametrize("kind", ["sqlite", "filesystem"])
def test_concurrent_threads_share_one_instance(kind, tmp_path):
    cache = make_cache(kind, tmp_path)
    workers, n_keys = 8, 100
    errors = []

    def work(worker):
        try:
            for i in range(0, n_keys, 10):
                batch = {key(f"t-{worker}-{j}"): result(f"{worker}-{j}") for j in range(i, i + 10)}
                batch[key(f"shared-{i}")] = result(f"{worker}-shared")
                cache.put_many(batch)
                assert cache.get_many(list(batch)).keys() == batch.keys()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    wanted = [key(f"t-{w}-{j}") for w in range(workers) for j in range(n_keys)]
    assert len(cache.get_many(wanted)) == workers * n_keys
    cache.close()
