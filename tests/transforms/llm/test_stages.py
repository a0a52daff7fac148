import json

from schemas.llm import EndpointConfig, JudgeRule, LLMResult, RatingRule
from schemas.records import CommitRecord, PairRecord, RejectRecord
from transforms.commit_pairs import pairs_from_commit
from transforms.llm.instruct import InstructTask
from transforms.llm.judge import JudgeTask, aggregate_votes
from transforms.llm.rate import RateTask, consensus
from transforms.llm.stage import Plan
from transforms.llm.templates import PROBLEM_STYLES


EP = EndpointConfig(name="e", base_url="http://x/v1", model="m", output_mode="json_object_schema")
TAGS = EndpointConfig(name="t", base_url="http://x/v1", model="m2", output_mode="tags")
PAIR = PairRecord(
    idx="0123abcd4567ef89",
    input="Write a lookup.",
    chosen="NEW = 1\n",
    rejected="OLD = 1\n",
    language="Python",
    aspect="Runtime Efficiency",
    source="commits",
    file_path="a.py",
    commit_message="Speed up lookup",
)


def answer(text, error=None):
    return LLMResult("k", text, error)


def verdict(v):
    return answer(json.dumps({"evaluation": "because", "verdict": v}))


def test_pairs_from_commit_one_per_criterion():
    commit = CommitRecord(
        "c", "s", "m", "r", "a.py", "mit", 1, "old", "new", "Python", ("Runtime Efficiency", "Memory Efficiency")
    )
    pairs = pairs_from_commit(commit)
    assert [(p.aspect, p.chosen, p.rejected) for p in pairs] == [
        ("Runtime Efficiency", "new", "old"),
        ("Memory Efficiency", "new", "old"),
    ]
    assert len({p.idx for p in pairs}) == 2


def test_consensus_rule():
    rule = RatingRule()
    assert consensus([4, 4, 5], rule)
    assert not consensus([5, 5, 2], rule)  # one model below 3
    assert not consensus([4, 3, 4], rule)  # mean below 4
    assert not consensus([], rule)


def test_rate_task_keeps_rejects_and_never_guesses():
    task = RateTask((EP, TAGS), RatingRule())
    plan = task.plan(PAIR)
    assert [name for name, _ in plan.requests] == ["e", "t"]
    assert plan.requests[0][1].temperature == 0.0 and plan.requests[1][1].response_schema == ""
    good = [answer('{"summary": "s", "rating": 5}'), answer("[SUMMARY]s[/SUMMARY][RATING]4[/RATING]")]
    kept = task.finish(PAIR, good)
    assert kept.rating_mean == 4.5 and [r["rating"] for r in json.loads(kept.label_details)["ratings"]] == [5, 4]
    low = task.finish(PAIR, [answer('{"summary": "s", "rating": 5}'), answer("[SUMMARY]s[/SUMMARY][RATING]2[/RATING]")])
    assert low.reason == "low_rating"
    garbled = task.finish(PAIR, [answer('{"summary": "s", "rating": 5}'), answer("I'd say four")])
    assert garbled.reason == "rating_unparseable" and "four" in garbled.payload
    failed = task.finish(PAIR, [answer(None, "timeout"), good[1]])
    assert failed.reason == "llm_error"
    waiting = task.finish(PAIR, [answer(None, "awaiting_batch"), good[1]])
    assert waiting.reason == "awaiting_batch"
    big = PAIR._replace(chosen="x" * 30_000)
    assert task.plan(big).reason == "too_long_for_llm"


def test_instruct_task_fills_input_with_a_hashed_style():
    task = InstructTask(EP)
    request = task.plan(PAIR).requests[0][1]
    assert any(style in request.messages[0][1] + request.messages[1][1] for style in PROBLEM_STYLES)
    done = task.finish(PAIR, [answer('{"description": "d", "instruction": "  Implement a fast lookup.  "}')])
    assert done.input == "Implement a fast lookup."
    assert json.loads(done.label_details)["instruction"]["style"] in PROBLEM_STYLES
    assert task.finish(PAIR, [answer('{"description": "d"')]).reason == "instruction_unparseable"


def test_judge_alternates_order():
    plan = JudgeTask(EP, JudgeRule(samples=4)).plan(PAIR)
    assert isinstance(plan, Plan) and len(plan.requests) == 4
    users = [r.messages[1][1] for _, r in plan.requests]
    assert [u.index("NEW") < u.index("OLD") for u in users] == [True, False, True, False]
    assert len({r.seed for _, r in plan.requests}) == 4
    assert [r.sample_index for _, r in plan.requests] == [0, 1, 2, 3]


def test_a_judge_that_always_answers_a_has_no_net_preference():
    task = JudgeTask(EP, JudgeRule(samples=8))
    outcome = task.finish(PAIR, [verdict("A")] * 8)
    assert isinstance(outcome, RejectRecord) and outcome.reason == "judge_disagrees"
    row = json.loads(outcome.payload)
    assert row["judge_matches"] == row["judge_contradictions"] == 4
    details = json.loads(row["label_details"])["judge"]
    assert details["a_rate"] == 1.0 and details["position_consistency"] == 0.0
    assert sum(v["chosen_first"] for v in details["votes"]) == 4


def test_a_consistent_judge_is_kept():
    task = JudgeTask(EP, JudgeRule(samples=8))
    votes = [verdict("A" if i % 2 == 0 else "B") for i in range(8)]
    kept = task.finish(PAIR, votes)
    assert (kept.judge_matches, kept.judge_contradictions, kept.judge_errors) == (8, 0, 0)
    assert json.loads(kept.label_details)["judge"]["position_consistency"] == 1.0


def test_unparseable_votes_are_counted_not_guessed():
    task = JudgeTask(EP, JudgeRule(samples=4, max_errors=1))
    outcome = task.finish(PAIR, [verdict("A"), answer("B, I think"), answer(""), verdict("B")])
    assert outcome.reason == "judge_unparseable"
    row = json.loads(outcome.payload)
    assert row["judge_errors"] == 2 and row["judge_matches"] == 2


def test_aggregate_votes():
    stats = aggregate_votes(["A", "A", "TIE", None])
    assert (stats.matches, stats.contradictions, stats.ties, stats.errors) == (1, 1, 1, 1)
    assert stats.a_rate == 2 / 3 and stats.position_consistency == 0.0
    assert aggregate_votes([None, None]).a_rate is None


def test_in_sample_is_stable_and_proportional():
    from transforms.commit_pairs import in_sample

    ids = [f"{i:016x}" for i in range(4000)]
    kept = [i for i in ids if in_sample(i, 0.25)]
    assert 800 < len(kept) < 1200
    assert kept == [i for i in ids if in_sample(i, 0.25)]
    assert all(in_sample(i, 1.0) for i in ids[:10])
