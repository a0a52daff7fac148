"""`RunLLMTask`: requests of successive batches and stages are in flight together, and nothing is lost."""

import json

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.llm import LLMRequest
from schemas.records import RejectRecord
from tests.transforms.llm.chat_server import ChatServer, body_hash
from tests.transforms.llm.test_client import SCHEMA, endpoint
from transforms.llm.client import chat_body
from transforms.llm.stage import Plan, RunLLMTask, transport_reject


def request(i):
    return LLMRequest("m", (("user", f"element {i}"),), 0.0, 1.0, 32, 7, "t", "1", 0, "json_object_schema", SCHEMA)


class EchoTask:
    """Asks one request per element (none for 3 mod 7: rejected before asking)."""

    stage = "echo"

    def plan(self, element):
        if element % 7 == 3:
            return RejectRecord.make(self.stage, "skipped", str(element), "")
        return Plan((("fake", request(element)),))

    def finish(self, element, results):
        failed = transport_reject(self.stage, str(element), results)
        if failed is not None:
            return failed
        return element, json.loads(results[0].text)["summary"]


class SecondTask:
    """Asks two requests per element of `EchoTask`'s output, for the element and its hundredfold."""

    stage = "second"

    def plan(self, element):
        return Plan((("fake", request(element[0] + 1000)), ("fake", request(element[0] + 2000))))

    def finish(self, element, results):
        return element[0], tuple(json.loads(r.text)["summary"] for r in results)


def expected(n):
    return [(i, f"text {body_hash(chat_body(request(i)))}") for i in range(n) if i % 7 != 3]


def run(server_url, n, batch_size, tmp_path, max_concurrency=8, cached=False):
    config = endpoint(server_url, max_concurrency=max_concurrency, timeout_s=10.0)
    with TestPipeline() as p:
        out = (
            p
            | beam.Create(list(range(n)))
            | RunLLMTask(EchoTask(), (config,), str(tmp_path / "cache.sqlite"), batch_size=batch_size)
        )
        assert_that(out.main, equal_to(expected(n)), label="main")
        assert_that(
            out.rejected | beam.Map(lambda r: (r.reason, r.record_id)),
            equal_to([("skipped", str(i)) for i in range(n) if i % 7 == 3]),
            label="rejected",
        )
        assert_that(
            out.llm_stats | beam.Map(lambda s: s["requests_sent"]) | beam.CombineGlobally(sum),
            equal_to([0 if cached else len(expected(n))]),
            label="sent",
        )


def test_batches_do_not_wait_for_each_other(tmp_path):
    # One element a batch: waiting for each batch's answer would keep one request in flight.
    with ChatServer(delay_s=0.2) as server:
        run(server.base_url, 40, batch_size=1, tmp_path=tmp_path)
    assert server.most_in_flight > 1
    assert server.most_in_flight <= 8  # the endpoint's max_concurrency still holds across batches


def test_a_warm_rerun_answers_everything_from_the_cache(tmp_path):
    with ChatServer() as server:
        run(server.base_url, 30, batch_size=4, tmp_path=tmp_path)
        sent = len(server.served)
        run(server.base_url, 30, batch_size=4, tmp_path=tmp_path, cached=True)
    assert len(server.served) == sent == len(expected(30))


def test_a_refusal_in_a_later_batch_ends_the_run(tmp_path):
    refuse = lambda body, digest, attempt: "unauthorized" if "element 25" in json.dumps(body) else None  # noqa: E731
    with ChatServer(fault_for=refuse) as server, pytest.raises(Exception) as info:
        run(server.base_url, 40, batch_size=2, tmp_path=tmp_path)
    assert "401 Unauthorized" in str(info.value)


def test_chained_stages_share_the_endpoint_and_keep_their_own_counts(tmp_path):
    n = 30
    firsts = [i for i, _ in expected(n)]
    with ChatServer(delay_s=0.05) as server:
        config = endpoint(server.base_url, max_concurrency=4, timeout_s=10.0)
        cache = str(tmp_path / "cache.sqlite")
        with TestPipeline() as p:
            first = p | beam.Create(list(range(n))) | "First" >> RunLLMTask(EchoTask(), (config,), cache, batch_size=2)
            second = first.main | "Second" >> RunLLMTask(SecondTask(), (config,), cache, batch_size=3)
            want = [(i, tuple(f"text {body_hash(chat_body(request(i + k)))}" for k in (1000, 2000))) for i in firsts]
            assert_that(second.main, equal_to(want), label="main")
            for name, stage, sent in (("first", first, len(firsts)), ("second", second, 2 * len(firsts))):
                total = stage.llm_stats | f"{name}Sent" >> beam.Map(lambda s: s["requests_sent"])
                assert_that(total | f"{name}Sum" >> beam.CombineGlobally(sum), equal_to([sent]), label=name)
    assert server.most_in_flight <= 4  # one client per endpoint on the thread: max_concurrency holds for both stages
    assert len(server.served) == 3 * len(firsts)
