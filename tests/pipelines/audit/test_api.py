import pytest

from pipelines.audit.api import MAX_BODY, ROUTE_NOTE, ROUTE_VERDICT, Post, RequestError, body_length, parse_post


IDXS = frozenset({"pair-a", "pair-b"})


@pytest.mark.parametrize(
    ("content_length", "expected"),
    [(["17"], 17), ([" 17\t"], 17), (["17", "17"], 17), (["0017"], 17), ([str(MAX_BODY)], MAX_BODY)],
)
def test_body_length_takes_one_plain_decimal_length(content_length, expected):
    assert body_length(content_length, []) == expected


@pytest.mark.parametrize(
    ("content_length", "transfer_encoding", "status", "error"),
    [
        (["ten"], [], 400, "Content-Length 'ten' is not a non-negative integer"),
        (["-5"], [], 400, "Content-Length '-5' is not a non-negative integer"),
        (["+5"], [], 400, "Content-Length '+5' is not a non-negative integer"),
        (["1_0"], [], 400, "Content-Length '1_0' is not a non-negative integer"),
        (["5, 5"], [], 400, "Content-Length '5, 5' is not a non-negative integer"),
        (["١٢"], [], 400, "Content-Length '١٢' is not a non-negative integer"),  # Arabic-Indic digits
        ([""], [], 400, "Content-Length '' is not a non-negative integer"),
        (["0"], [], 400, "the body is empty: expected a JSON object"),
        (["000"], [], 400, "the body is empty: expected a JSON object"),
        (["2", "3"], [], 400, "conflicting Content-Length headers"),
        ([str(MAX_BODY + 1)], [], 413, f"the body is {MAX_BODY + 1} bytes; at most {MAX_BODY} are accepted"),
        (["9" * 5000], [], 413, f"the body is over {MAX_BODY} bytes; at most {MAX_BODY} are accepted"),
        ([], [], 411, "Content-Length is missing"),
        ([], ["chunked"], 411, "Transfer-Encoding 'chunked' is not accepted: send the body with a Content-Length"),
        (["5"], ["chunked"], 411, "Transfer-Encoding 'chunked' is not accepted"),
    ],
)
def test_body_length_refuses_what_it_cannot_cap(content_length, transfer_encoding, status, error):
    with pytest.raises(RequestError) as caught:
        body_length(content_length, transfer_encoding)
    assert caught.value.status == status
    assert str(caught.value).startswith(error)


def test_parse_post_returns_the_checked_request():
    assert parse_post(ROUTE_VERDICT, b'{"idx": "pair-a", "verdict": "agree"}', IDXS) == Post(
        ROUTE_VERDICT, "pair-a", "agree", None
    )
    body = '{"idx": "pair-b", "verdict": "unsure", "note": "ça dépend", "extra": [1, {"x": null}]}'.encode()
    assert parse_post(ROUTE_VERDICT, body, IDXS) == Post(ROUTE_VERDICT, "pair-b", "unsure", "ça dépend")
    assert parse_post(ROUTE_NOTE, b'{"idx": "pair-a", "note": ""}', IDXS) == Post(ROUTE_NOTE, "pair-a", None, "")


DEEP = 100_000


@pytest.mark.parametrize(
    ("route", "body", "status", "error"),
    [
        (ROUTE_VERDICT, b"\xff\xfe{}", 400, "the body is not UTF-8 (byte 0)"),
        (ROUTE_VERDICT, '{"idx": "pair-a", "note": "é"}'.encode("utf-16"), 400, "the body is not UTF-8"),
        (ROUTE_VERDICT, b"{idx: 1}", 400, "the body is not JSON (Expecting property name"),
        (ROUTE_VERDICT, b'{"idx": 1' + b"0" * 5000 + b"}", 400, "the body is not JSON"),  # int() digit limit
        (ROUTE_VERDICT, b"[" * DEEP + b"]" * DEEP, 400, "the body is nested too deeply"),
        (ROUTE_VERDICT, b'{"idx": ' + b'{"a": ' * DEEP + b"1" + b"}" * DEEP + b"}", 400, "the body is nested too"),
        (ROUTE_VERDICT, b"[]", 400, "expected a JSON object, got an array"),
        (ROUTE_VERDICT, b"3.5", 400, "expected a JSON object, got a number"),
        (ROUTE_VERDICT, b"true", 400, "expected a JSON object, got a boolean"),
        (ROUTE_VERDICT, b'{"verdict": "agree"}', 400, "idx is missing"),
        (ROUTE_VERDICT, b'{"idx": null, "verdict": "agree"}', 400, "idx must be a string, got null"),
        (ROUTE_VERDICT, b'{"idx": ["pair-a"], "verdict": "agree"}', 400, "idx must be a string, got an array"),
        (ROUTE_VERDICT, b'{"idx": {"pair-a": 1}, "verdict": "agree"}', 400, "idx must be a string, got an object"),
        (ROUTE_VERDICT, b'{"idx": "pair-a"}', 400, "verdict null: expected one of agree, disagree, unsure"),
        (ROUTE_VERDICT, b'{"idx": "pair-a", "verdict": {"v": 1}}', 400, "verdict an object: expected one of"),
        (ROUTE_VERDICT, b'{"idx": "pair-a", "verdict": "maybe"}', 400, "verdict 'maybe': expected one of"),
        (ROUTE_VERDICT, b'{"idx": "pair-a", "verdict": "agree", "note": []}', 400, "note must be a string, got an"),
        (ROUTE_NOTE, b'{"idx": "pair-a"}', 400, "note is missing"),
        (ROUTE_NOTE, b'{"idx": "pair-z", "note": "x"}', 404, "idx 'pair-z' is not in the audit set"),
        (ROUTE_VERDICT, b'{"idx": "pair-z", "verdict": "agree"}', 404, "idx 'pair-z' is not in the audit set"),
    ],
)
def test_parse_post_refuses_malformed_bodies(route, body, status, error):
    with pytest.raises(RequestError) as caught:
        parse_post(route, body, IDXS)
    assert caught.value.status == status
    assert str(caught.value).startswith(error)
