"""Run-ending LLM faults: finding a refusal through Beam's wrapping, and the `llm_error` share."""

import logging

import apache_beam as beam
import pydantic
import pytest

from schemas.errors import EndpointError, LLMErrorShareError
from schemas.llm import EndpointConfig, LabelConfig, RatingRule
from tests.transforms.llm.chat_server import ChatServer
from tests.transforms.llm.test_stages import PAIR
from transforms.llm.errors import (
    check_llm_error_share,
    find_endpoint_error,
    llm_error_share_problems,
    quiet_endpoint_error_logs,
    redact,
)
from transforms.llm.rate import RateCommits, RateTask


MESSAGE = "endpoint gpt: 401 Unauthorized: check OPENAI_API_KEY"


def test_find_endpoint_error_however_it_is_wrapped():
    assert str(find_endpoint_error(EndpointError(MESSAGE))) == MESSAGE
    augmented = EndpointError(MESSAGE + " [while running 'RateCommits/Ask/ParDo(_RunTaskFn)']")
    assert str(find_endpoint_error(augmented)) == MESSAGE
    try:
        try:
            raise EndpointError(MESSAGE)
        except EndpointError as inner:
            raise RuntimeError("bundle failed") from inner
    except RuntimeError as outer:
        assert str(find_endpoint_error(outer)) == MESSAGE
    remote = RuntimeError(
        'Pipeline failed. Traceback (most recent call last):\n  File "stage.py", line 96, in process\n'
        f"transforms.llm.errors.EndpointError: {MESSAGE} [while running 'RateCommits/Ask']\n\nDuring handling ..."
    )  # the text a worker process sends back
    assert str(find_endpoint_error(remote)) == MESSAGE
    relayed = RuntimeError(  # a worker's log entry as the runner relays it: one line, escaped
        r"""Worker: message: "Traceback ...\ntransforms.llm.errors.EndpointError: endpoint gpt: 404 Not Found: """
        r"""check model \'m\' and base_url http://x/v1\n" instruction_id: "bundle_1" """
    )
    assert str(find_endpoint_error(relayed)) == "endpoint gpt: 404 Not Found: check model 'm' and base_url http://x/v1"
    assert find_endpoint_error(RuntimeError("IndexError: list index out of range")) is None
    assert find_endpoint_error(ValueError("endpoint gpt: something else")) is None


def test_redact():
    assert redact("Incorrect API key provided: sk-abc***wxyz.") == "Incorrect API key provided: [redacted]"
    assert redact("key sk-proj-0123456789abcdef here") == "key [redacted] here"
    assert redact("the secret s3cr3t-value is wrong", ("s3cr3t-value",)) == "the secret [redacted] is wrong"
    assert redact("The model `gpt-5` does not exist") == "The model `gpt-5` does not exist"


def manifest(rate_in, rate_errors, judge_in=0, judge_errors=0):
    stages = [
        {"name": "mine_git", "in": 10, "out": rate_in, "rejected": {"added": 10 - rate_in}},
        {"name": "rate_commits", "in": rate_in, "out": rate_in - rate_errors, "rejected": {"llm_error": rate_errors}},
        {
            "name": "judge_pairs",
            "in": judge_in,
            "out": judge_in - judge_errors,
            "rejected": {"llm_error": judge_errors} if judge_errors else {},
        },
    ]
    llm = {"rate_commits": {"errors": {"server_error": rate_errors}}, "judge_pairs": {"errors": {}}}
    return {"stages": stages, "llm": llm}


def test_llm_error_share_boundaries():
    assert llm_error_share_problems(manifest(4, 2), 0.5) == []  # exactly the share passes
    assert llm_error_share_problems(manifest(3, 2), 0.5) == [
        "rate_commits: 2 of 3 pairs (67%) rejected as llm_error, over max_llm_error_share 0.5 (errors: server_error 2)"
    ]
    assert llm_error_share_problems(manifest(3, 2), 0.7) == []
    assert llm_error_share_problems(manifest(3, 0), 0.0) == []
    assert llm_error_share_problems(manifest(3, 1), 0.0) != []
    assert llm_error_share_problems(manifest(3, 3), 1.0) == []
    assert llm_error_share_problems(manifest(0, 0), 0.5) == []  # a stage that saw nothing
    both = llm_error_share_problems(manifest(2, 2, judge_in=2, judge_errors=2), 0.5)
    assert [line.split(":")[0] for line in both] == ["rate_commits", "judge_pairs"]
    assert both[1].endswith("over max_llm_error_share 0.5")  # no error kinds recorded: none listed
    no_llm = {"stages": manifest(3, 3)["stages"]}
    assert llm_error_share_problems(no_llm, 0.5) == []  # not an LLM run
    with pytest.raises(LLMErrorShareError) as caught:
        check_llm_error_share(manifest(3, 2), 0.5)
    assert caught.value.manifest == manifest(3, 2) and "rate_commits: 2 of 3" in str(caught.value)


def test_max_llm_error_share_is_validated():
    endpoints = ({"name": "e", "base_url": "http://x/v1", "model": "m"},)
    assert LabelConfig(endpoints=endpoints).max_llm_error_share == 0.5
    assert LabelConfig(endpoints=endpoints, max_llm_error_share=0).max_llm_error_share == 0
    for bad in (-0.1, 1.5, "half"):
        with pytest.raises(pydantic.ValidationError, match="max_llm_error_share"):
            LabelConfig(endpoints=endpoints, max_llm_error_share=bad)


def test_log_records_of_a_refusal_lose_their_traceback(caplog):
    root = logging.getLogger()
    handler = logging.StreamHandler()
    root.addHandler(handler)
    try:
        quiet_endpoint_error_logs()
        quiet_endpoint_error_logs()  # once per handler
        assert sum(type(f).__name__ == "_OneLineEndpointErrors" for f in handler.filters) == 1
        try:
            raise EndpointError(MESSAGE + " [while running 'X']")
        except EndpointError:
            record = logging.LogRecord("beam", logging.ERROR, "f", 1, "%s", ("x",), exc_info=True)
            record.exc_info = __import__("sys").exc_info()
        handler.filter(record)
        assert (record.getMessage(), record.exc_info) == (MESSAGE, None)
        relayed_message = f'message: "Traceback ... transforms.llm.errors.EndpointError: {MESSAGE}\\n"'
        relayed = logging.LogRecord("job", logging.ERROR, "f", 1, "Worker: %s", (relayed_message,), None)
        handler.filter(relayed)
        assert relayed.getMessage() == MESSAGE
        other = logging.LogRecord("x", logging.ERROR, "f", 1, "IndexError: %s", ("boom",), None)
        handler.filter(other)
        assert other.getMessage() == "IndexError: boom"
    finally:
        root.removeHandler(handler)


def test_a_refusal_inside_a_beam_stage_comes_out_as_the_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("CODEPREF_ERRORS_TEST_KEY", "sk-wrong-000000000000")
    pair = PAIR._replace(input="")
    with ChatServer(api_key="sk-right-1234567890") as server:
        endpoint = EndpointConfig(
            name="gpt",
            base_url=server.base_url,
            model="m",
            timeout_s=5,
            api_key_env="CODEPREF_ERRORS_TEST_KEY",
            output_mode="json_object_schema",
        )
        task = RateTask((endpoint,), RatingRule())
        with pytest.raises(Exception) as caught, beam.Pipeline() as p:  # noqa: B017 - Beam decides the wrapper
            _ = p | beam.Create([pair]) | RateCommits(task, (endpoint,), str(tmp_path / "c.sqlite"))
    assert str(find_endpoint_error(caught.value)) == "endpoint gpt: 401 Unauthorized: check CODEPREF_ERRORS_TEST_KEY"
    assert sum(server.attempts.values()) == 1
