import http.client
import json
import os
import socket
import sqlite3
import urllib.parse

import pytest

from pipelines.audit.sample import sample
from pipelines.audit.server import AuditServer, check_loopback, serve
from schemas.errors import AuditError
from tests.pipelines.audit.conftest import pair_row, write_release


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def audit_dir(tmp_path):
    """Five pairs, one with judge votes, sampled into tmp/out/audit."""
    two_votes = [
        {"chosen_first": True, "verdict": "A", "rationale": "The chosen code calls sum once."},
        {"chosen_first": False, "verdict": "B", "rationale": "B is the shorter loop-free version."},
    ]
    votes = {"judge": {"a_rate": 0.5, "position_consistency": 1.0, "votes": two_votes}}
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
        "idx": order[0],
        "verdict": "agree",
        "note": "ok",
        "updated": None,
        "reviewed": 1,
        "total": 5,
    }
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


def raw_exchange(server, data, timeout=60):
    """Sends raw bytes and reads until the server closes: (status or None, head text, body bytes)."""
    with socket.create_connection(server.server_address[:2], timeout=timeout) as sock:
        sock.sendall(data)
        answer = read_until_closed(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else None
    return status, head.decode("latin-1"), body


def read_until_closed(sock):
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def raw_post(server, headers, body=b"", path="/api/verdict"):
    host, port = server.server_address[:2]
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json", *headers]
    return raw_exchange(server, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


def test_posts_from_a_foreign_origin_are_refused(audit_dir, running):
    server = running(audit_dir)
    host, port = server.server_address[:2]
    body = {"idx": "pair-a", "verdict": "agree"}
    foreign = ["http://attacker.example", f"http://127.0.0.1:{port + 1}", f"https://127.0.0.1:{port}", "null", ""]
    for origin in foreign:
        response, data = request(server, "POST", "/api/verdict", body, {"Origin": origin})
        assert (response.status, json.loads(data)["error"]) == (403, f"Origin {origin!r} is not this server"), origin
    assert server.store.all() == {}
    response, _ = request(server, "POST", "/api/verdict", body, {"Origin": server.url.rstrip("/")})
    assert response.status == 200  # the page's own fetch
    via_localhost = {"Host": f"localhost:{port}", "Origin": f"http://localhost:{port}"}
    response, _ = request(server, "POST", "/api/note", {"idx": "pair-a", "note": "x"}, via_localhost)
    assert response.status == 200
    response, _ = request(server, "POST", "/api/note", {"idx": "pair-b", "note": "curl"})
    assert response.status == 200  # no Origin (curl, a script): allowed, the Host still has to match
    rebound = {"Host": f"attacker.example:{port}"}
    response, _ = request(server, "POST", "/api/note", {"idx": "pair-c", "note": "rebound"}, rebound)
    assert response.status == 421
    status, _, _ = raw_exchange(server, b"POST /api/note HTTP/1.0\r\nContent-Type: application/json\r\n\r\n")
    assert status == 421  # no Host at all
    assert set(server.store.all()) == {"pair-a", "pair-b"}


DEEP = 100_000  # far past the JSON parser's recursion limit, still under the body limit


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"idx": ["pair-a"], "verdict": "agree"}', "idx must be a string, got an array"),
        (b'{"idx": {"pair-a": 1}, "verdict": "agree"}', "idx must be a string, got an object"),
        (b'{"idx": 7, "verdict": "agree"}', "idx must be a string, got a number"),
        (b'{"idx": ' + b"[" * DEEP + b"]" * DEEP + b', "verdict": "agree"}', "the body is nested too deeply"),
        (b"[" * DEEP + b"]" * DEEP, "the body is nested too deeply"),
        (b'{"idx": ' + b"[" * 50 + b"]" * 50 + b', "verdict": "agree"}', "idx must be a string, got an array"),
        (b"idx=pair-a&verdict=agree", "the body is not JSON"),
        (b'["pair-a", "agree"]', "expected a JSON object, got an array"),
        (b'"pair-a"', "expected a JSON object, got a string"),
        (b"null", "expected a JSON object, got null"),
        ('{"idx": "pair-a", "verdict": "agree", "note": "café"}'.encode("latin-1"), "the body is not UTF-8"),
        (b'{"idx": "pair-a", "verdict": ["agree"]}', "verdict an array: expected one of agree, disagree, unsure"),
        (b'{"idx": "pair-a", "verdict": "AGREE"}', "verdict 'AGREE': expected one of agree, disagree, unsure"),
        (b'{"idx": "pair-a", "verdict": "agree", "note": 5}', "note must be a string, got a number"),
    ],
    ids=lambda value: value[:40] if isinstance(value, str) else None,
)
def test_malformed_bodies_get_a_400_with_a_json_error(body, error, audit_dir, running):
    server = running(audit_dir)
    response, data = request(server, "POST", "/api/verdict", body, {"Content-Type": "application/json"})
    assert response.status == 400
    assert response.getheader("Content-Type") == "application/json; charset=utf-8"
    assert json.loads(data)["error"].startswith(error)
    assert request(server, "GET", "/api/state")[0].status == 200  # and the server carries on
    assert server.store.all() == {}


@pytest.mark.parametrize(
    ("headers", "body", "status", "error"),
    [
        (["Content-Length: ten"], b"{}", 400, "Content-Length 'ten' is not a non-negative integer"),
        (["Content-Length: -5"], b"{}", 400, "Content-Length '-5' is not a non-negative integer"),
        (["Content-Length: +2"], b"{}", 400, "Content-Length '+2' is not"),
        (["Content-Length: 1_0"], b"{}", 400, "Content-Length '1_0' is not"),
        (["Content-Length: 0"], b"", 400, "the body is empty"),
        (["Content-Length: 2", "Content-Length: 3"], b"{}", 400, "conflicting Content-Length headers"),
        ([f"Content-Length: {256 * 1024 + 1}"], b"{}", 413, f"the body is {256 * 1024 + 1} bytes; at most"),
        (["Content-Length: 99999999999999"], b"{}", 413, "the body is 99999999999999 bytes"),
        (["Content-Length: " + "9" * 5000], b"{}", 413, "the body is over 262144 bytes"),
        (["Transfer-Encoding: chunked"], b"2\r\n{}\r\n0\r\n\r\n", 411, "Transfer-Encoding 'chunked' is not accepted"),
        ([], b"", 411, "Content-Length is missing"),
    ],
    ids=lambda value: value[0][:30] if isinstance(value, list) and value else None,
)
def test_bad_content_lengths_are_answered(headers, body, status, error, audit_dir, running):
    server = running(audit_dir)
    answered, head, data = raw_post(server, headers, body)
    assert answered == status, head
    assert "Content-Type: application/json; charset=utf-8" in head
    assert json.loads(data)["error"].startswith(error)
    assert request(server, "GET", "/api/state")[0].status == 200
    assert server.store.all() == {}


def test_a_body_shorter_than_its_content_length_is_a_400(audit_dir, running):
    server = running(audit_dir)
    host, port = server.server_address[:2]
    with socket.create_connection((host, port), timeout=60) as sock:
        sock.sendall(
            f"POST /api/verdict HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            'Content-Length: 100\r\n\r\n{"idx": "pair-a"}'.encode()
        )
        sock.shutdown(socket.SHUT_WR)  # the client is done: the body ends 83 bytes early
        head, _, data = read_until_closed(sock).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 400 ")
    assert json.loads(data) == {"error": "the body ended after 17 of 100 bytes"}


def test_stalled_requests_are_cut_off_and_do_not_block_other_clients(audit_dir, running):
    server = running(audit_dir, read_timeout=2)
    host, port = server.server_address[:2]
    in_headers = socket.create_connection((host, port), timeout=60)
    in_body = socket.create_connection((host, port), timeout=60)
    try:
        in_headers.sendall(f"POST /api/verdict HTTP/1.1\r\nHost: {host}:{port}\r\nContent-".encode())
        in_body.sendall(
            f"POST /api/verdict HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            'Content-Length: 60\r\n\r\n{"idx": "pair-a", '.encode()
        )
        assert request(server, "GET", "/api/state")[0].status == 200  # served while both are stalled
        assert request(server, "POST", "/api/verdict", {"idx": "pair-b", "verdict": "agree"})[0].status == 200
        assert read_until_closed(in_headers) == b""  # the server closes it; no answer to half a header
        head, _, data = read_until_closed(in_body).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.0 408 ")
        assert json.loads(data) == {"error": "the request stalled: no data for 2 s"}
    finally:
        in_headers.close()
        in_body.close()
    assert set(server.store.all()) == {"pair-b"}
    assert request(server, "GET", "/api/state")[0].status == 200


@pytest.mark.parametrize("read_timeout", [0, -1, float("nan"), float("inf")])
def test_read_timeout_must_be_a_positive_number(read_timeout, audit_dir):
    with pytest.raises(AuditError, match="read timeout"):
        AuditServer(audit_dir, read_timeout=read_timeout)


def test_an_unexpected_error_is_a_500_and_the_server_keeps_serving(audit_dir, running, monkeypatch):
    server = running(audit_dir)

    def broken():
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(server.store, "all", broken)
    response, data = request(server, "GET", "/api/state")
    assert response.status == 500
    assert json.loads(data) == {"error": "internal error (OperationalError); the server's log has the traceback"}
    assert request(server, "GET", "/?i=1")[0].status == 500
    monkeypatch.undo()
    assert request(server, "GET", "/api/state")[0].status == 200


def test_a_malformed_request_line_gets_a_json_400(audit_dir, running):
    server = running(audit_dir)
    status, head, data = raw_exchange(server, b"GET / extra HTTP/1.1\r\n\r\n")
    assert status == 400 and "Content-Type: application/json; charset=utf-8" in head
    assert json.loads(data)["error"].startswith("Bad request syntax")
    status, _, _ = raw_exchange(server, b"BREW /api/state HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 501
    assert request(server, "GET", "/api/state")[0].status == 200


def artifact_path(tmp_path, name):
    folder = os.environ.get("CODEPREF_TEST_ARTIFACTS") or str(tmp_path)
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, name)


def test_browser_marks_three_pairs_with_the_keyboard_and_they_survive_a_reload(audit_dir, running, tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: the audit page's browser test needs Debian's chromium (apt-get install "
            "chromium); CI installs it"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "the Python package playwright is missing: pip install playwright (no `playwright install`; "
            f"the test drives {CHROMIUM})"
        )
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
