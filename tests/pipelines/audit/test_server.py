import http.client
import json
import os
import sqlite3
import urllib.parse

import pytest

from pipelines.audit.records import AuditError
from pipelines.audit.sample import sample
from pipelines.audit.server import AuditServer, check_loopback, serve
from tests.pipelines.audit.conftest import pair_row, write_release


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def audit_dir(tmp_path):
    """Five pairs, one with judge votes, sampled into tmp/out/audit."""
    votes = {"judge": {"a_rate": 0.5, "position_consistency": 1.0, "votes": [
        {"chosen_first": True, "verdict": "A", "rationale": "The chosen code calls sum once."},
        {"chosen_first": False, "verdict": "B", "rationale": "B is the shorter loop-free version."},
    ]}}  # fmt: skip
    rows = [
        pair_row("pair-a", label_details=json.dumps(votes)),
        pair_row("pair-b", "Functional Correctness", "Go"),
        pair_row("pair-c", "Security Hardness", "Java", source="demo-secure-code", label_details="free text"),
        pair_row("pair-d", "Memory Efficiency", "C++"),
        pair_row("pair-e", "Readability and Maintainability", "Ruby"),
    ]
    out = write_release(tmp_path / "out", {"train": rows[:4], "validation": rows[4:]})
    return sample(out, 5, seed=0).audit_dir


def request(server, method, path, body=None, headers=None):
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    payload = json.dumps(body).encode() if isinstance(body, dict) else body
    hdrs = {"Content-Type": "application/json"} if isinstance(body, dict) else {}
    conn.request(method, path, body=payload, headers={**hdrs, **(headers or {})})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.10", "10.0.0.1", "example.com", "8.8.8.8"])
def test_refuses_non_loopback_hosts(host, audit_dir):
    with pytest.raises(AuditError, match="loopback"):
        check_loopback(host)
    with pytest.raises(AuditError, match="refusing to serve"):
        AuditServer(audit_dir, host=host)
    with pytest.raises(AuditError, match="refusing to serve"):
        serve(audit_dir, host=host, on_ready=lambda url: pytest.fail(f"served on {url}"))


def test_accepts_loopback_hosts():
    assert check_loopback("127.0.0.1") == "127.0.0.1"
    assert check_loopback("127.1.2.3") == "127.1.2.3"
    assert check_loopback("localhost") == "127.0.0.1"
    assert check_loopback("::1") == "::1"
    assert check_loopback("[::1]") == "::1"


def test_json_api_stores_verdicts_and_resumes(audit_dir, running):
    server = running(audit_dir)
    assert server.url.startswith("http://127.0.0.1:")
    order = [p.idx for p in server.pairs]
    response, _ = request(server, "GET", "/")
    assert (response.status, response.getheader("Location")) == (302, "/?i=1")
    response, body = request(server, "POST", "/api/verdict", {"idx": order[0], "verdict": "agree", "note": "ok"})
    assert response.status == 200
    assert json.loads(body) | {"updated": None} == {
        "idx": order[0], "verdict": "agree", "note": "ok", "updated": None, "reviewed": 1, "total": 5,
    }  # fmt: skip
    response, body = request(server, "POST", "/api/note", {"idx": order[1], "note": "later"})
    assert (response.status, json.loads(body)["verdict"]) == (200, None)
    response, _ = request(server, "GET", "/")
    assert response.getheader("Location") == "/?i=2"  # a note is not a verdict
    state = json.loads(request(server, "GET", "/api/state")[1])
    assert (state["total"], state["reviewed"], state["resume"]) == (5, 1, 1)
    response, page = request(server, "GET", "/?i=1")
    assert response.status == 200 and b'<span id="progress">1 / 5</span>' in page
    assert "default-src 'none'" in response.getheader("Content-Security-Policy")
    assert request(server, "GET", "/?i=99")[1].count(b'<span id="progress">5 / 5</span>') == 1


def test_api_rejects_bad_requests(audit_dir, running):
    server = running(audit_dir)
    idx = server.pairs[0].idx
    assert request(server, "POST", "/api/verdict", {"idx": idx, "verdict": "maybe"})[0].status == 400
    assert request(server, "POST", "/api/verdict", {"idx": "nope", "verdict": "agree"})[0].status == 404
    assert request(server, "POST", "/api/verdict", {"verdict": "agree"})[0].status == 400
    form = urllib.parse.urlencode({"idx": idx, "verdict": "agree"}).encode()
    simple = {"Content-Type": "application/x-www-form-urlencoded"}
    assert request(server, "POST", "/api/verdict", form, simple)[0].status == 415  # no cross-site form posts
    rebound = {"Host": f"attacker.example:{server.server_address[1]}"}
    assert request(server, "GET", "/api/state", headers=rebound)[0].status == 421  # DNS rebinding
    assert request(server, "GET", "/nowhere")[0].status == 404
    assert server.store.all() == {}


def artifact_path(tmp_path, name):
    folder = os.environ.get("CODEPREF_TEST_ARTIFACTS") or str(tmp_path)
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, name)


def test_browser_marks_three_pairs_with_the_keyboard_and_they_survive_a_reload(audit_dir, running, tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: the audit page's browser test needs Debian's chromium (apt-get install "
                    "chromium); CI installs it")  # fmt: skip
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the Python package playwright is missing: pip install playwright (no `playwright install`; "
                    f"the test drives {CHROMIUM})")  # fmt: skip
    server = running(audit_dir)
    order = [p.idx for p in server.pairs]
    problems = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(20_000)
            page.on("console", lambda m: m.type == "error" and problems.append(m.text))  # CSP violations too
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(server.url)
            page.wait_for_selector("body[data-ready='1']")
            assert page.url.endswith("/?i=1")
            assert page.inner_text("#progress") == "1 / 5"
            assert "agree with the label" in page.inner_text("#shortcuts")
            for number, key in enumerate("adu", start=1):
                assert page.get_attribute("body", "data-idx") == order[number - 1]
                with page.expect_navigation():
                    page.keyboard.press(key)
                page.wait_for_selector("body[data-ready='1']")
                assert page.url.endswith(f"/?i={number + 1}")
            page.keyboard.press("n")
            assert page.evaluate("document.activeElement.id") == "note"
            page.keyboard.type("needs a second look")
            page.keyboard.press("Enter")
            page.wait_for_selector("#status:text('note saved')")

            page.reload()
            page.wait_for_selector("body[data-ready='1']")
            assert page.inner_text("#progress") == "4 / 5"
            assert page.inner_text("#reviewed") == "3"
            assert page.input_value("#note") == "needs a second look"
            strip = page.eval_on_selector_all(
                "#strip a", "cells => cells.map(c => c.className.replace('current', '').trim())"
            )
            assert strip == ["agree", "disagree", "unsure", "", ""]
            for _ in range(3):  # back to the first pair with k, checking each stored verdict on its page
                with page.expect_navigation():
                    page.keyboard.press("k")
                page.wait_for_selector("body[data-ready='1']")
            assert page.inner_text("#verdict") == "agree"
            with page.expect_navigation():
                page.keyboard.press("j")
            assert page.inner_text("#verdict") == "disagree"
            page.goto(server.url)  # a new session resumes at the first pair without a verdict
            page.wait_for_selector("body[data-ready='1']")
            assert page.url.endswith("/?i=4") and page.inner_text("#verdict") == "no verdict"
            page.goto(server.url + "?i=1")
            page.wait_for_selector("body[data-ready='1']")
            shot = artifact_path(tmp_path, "audit-page.png")
            page.screenshot(path=shot, full_page=True)
        finally:
            browser.close()
    assert problems == []
    assert os.path.getsize(shot) > 10_000
    db = sqlite3.connect(os.path.join(audit_dir, "verdicts.sqlite"))
    stored = dict(db.execute("SELECT idx, verdict FROM verdicts WHERE verdict IS NOT NULL").fetchall())
    notes = dict(db.execute("SELECT idx, note FROM verdicts").fetchall())
    db.close()
    assert stored == {order[0]: "agree", order[1]: "disagree", order[2]: "unsure"}
    assert notes[order[3]] == "needs a second look"
