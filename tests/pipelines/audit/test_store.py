import sqlite3
import threading

import pytest

from pipelines.audit.store import VerdictStore, first_unreviewed
from schemas.errors import AuditError


IDXS = ["p0", "p1", "p2", "p3"]


def test_verdicts_persist_across_sessions(tmp_path):
    path = str(tmp_path / "verdicts.sqlite")
    store = VerdictStore(path)
    assert store.mark("p0", "agree").verdict == "agree"
    store.mark("p1", "disagree", "chosen leaks a file handle")
    store.mark("p2", "unsure")
    del store
    reopened = VerdictStore(path)  # a new session
    reviews = reopened.all()
    assert {k: (v.verdict, v.note) for k, v in reviews.items()} == {
        "p0": ("agree", ""),
        "p1": ("disagree", "chosen leaks a file handle"),
        "p2": ("unsure", ""),
    }
    assert all(v.updated.endswith("+00:00") for v in reviews.values())
    # Committed on every mark: another plain connection sees it, and the file is in WAL mode.
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("SELECT verdict FROM verdicts WHERE idx = 'p1'").fetchone() == ("disagree",)
    db.close()


def test_session_resumes_at_the_first_pair_without_a_verdict(tmp_path):
    store = VerdictStore(str(tmp_path / "v.sqlite"))
    assert first_unreviewed(IDXS, store.all()) == 0
    store.mark("p0", "agree")
    store.mark("p2", "agree")
    assert first_unreviewed(IDXS, store.all()) == 1
    store.set_note("p1", "look again")  # a note alone is not a verdict
    assert first_unreviewed(IDXS, store.all()) == 1
    store.mark("p1", "unsure")
    assert first_unreviewed(IDXS, store.all()) == 3
    store.mark("p3", "disagree")
    assert first_unreviewed(IDXS, store.all()) is None


def test_mark_keeps_the_note_and_note_keeps_the_verdict(tmp_path):
    store = VerdictStore(str(tmp_path / "v.sqlite"))
    store.set_note("p0", "first note")
    assert store.get("p0").verdict is None
    store.mark("p0", "agree")
    assert (store.get("p0").verdict, store.get("p0").note) == ("agree", "first note")
    store.set_note("p0", "second")
    assert (store.get("p0").verdict, store.get("p0").note) == ("agree", "second")
    store.mark("p0", "disagree", "changed my mind")
    assert (store.get("p0").verdict, store.get("p0").note) == ("disagree", "changed my mind")
    assert store.get("nope") is None
    with pytest.raises(AuditError, match="expected one of agree, disagree, unsure"):
        store.mark("p0", "maybe")
    assert store.get("p0").verdict == "disagree"


def test_concurrent_marks_from_threads_all_land(tmp_path):
    store = VerdictStore(str(tmp_path / "v.sqlite"))

    def work(t):
        for i in range(15):
            store.mark(f"t{t}-{i}", ("agree", "disagree", "unsure")[i % 3])

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.all()) == 90


def test_meta_round_trips(tmp_path):
    store = VerdictStore(str(tmp_path / "v.sqlite"))
    store.set_meta({"n": 100, "stratify": ["aspect", "language"], "config_id": None})
    store.set_meta({"n": 50})
    assert store.meta() == {"n": 50, "stratify": ["aspect", "language"], "config_id": None}
