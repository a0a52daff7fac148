"""Shared helpers of the final-filter tests: pairs and Beam counters."""

from apache_beam.metrics.metric import MetricsFilter

from schemas.records import PairRecord


def make_pair(idx, prompt="Fix the bug.", chosen="x = 1\n", rejected="x = 2\n"):
    return PairRecord(
        idx=idx,
        input=prompt,
        chosen=chosen,
        rejected=rejected,
        language="Python",
        aspect="Functional Correctness",
        source="commits",
    )


def stage_counters(result, stage):
    """{counter name: committed value} of one stage's namespace, after the run."""
    namespace = f"codepref.{stage}"
    found = result.metrics().query(MetricsFilter())["counters"]
    return {c.key.metric.name: c.committed for c in found if c.key.metric.namespace == namespace}


def assert_conserved(counters):
    """in == out + Σ rejected:* (house style rule 14)."""
    rejected = sum(v for k, v in counters.items() if k.startswith("rejected:"))
    assert counters["in"] == counters.get("out", 0) + rejected
