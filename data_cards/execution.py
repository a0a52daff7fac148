"""The card's optional "Execution verification" section: were the bugged-instruct pairs tested?

`render_execution(stats, manifest, kill_rates_plot)` returns the section's body,
or None when the release holds no bugged-instruct pair and there is nothing to
say (the card of such a release stays as it was). Two cases give a body:

* the manifest has an `execution` section (`transforms.execution.report`): how
  the pairs were verified and in which sandbox, the totals of candidate bugs
  tried and killed, the `verify_by_execution` stage's rejects by reason, the
  kill rates per language × operator, and the operators whose bugs most often
  survived the tests (the weak ones);
* it has none, but the release holds bugged-instruct pairs (the manifest's
  `composition`, or else the shards' `ReleaseStats.composition`): a note that
  their rejected sides were never run against tests, and how to verify them.

`operator_kill_rates` pools the kill rates of all languages per operator, for
the weak-operator sentence and the card's bar plot (`data_cards.plots.plot_kill_rates`).
"""

__all__ = [
    "HEADING",
    "OperatorRate",
    "has_bugged_instruct",
    "operator_kill_rates",
    "render_execution",
]

import collections
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from data_cards.sections import md_table
from data_cards.stats import ReleaseStats
from transforms.execution.verify import (
    EQUIVALENT_MUTANT,
    LLM_BUG,
    NO_TESTS,
    SANDBOX_FAILED,
    SOLUTION_FAILS_TESTS,
    STAGE,
)
from transforms.sources.instructions import SOURCE as BUGGED_INSTRUCT


HEADING = "## Execution verification"
"""The section's heading; in the section's text (not the template), since the section is optional."""

_ISOLATION = {
    "namespaces": "in a sandbox with no network and a read-only filesystem except the run's own folder "
    "(Linux namespaces), under resource limits and a timeout",
    "guards only": "under resource limits, a timeout and language guards, without network or filesystem "
    "isolation (the workers could not create namespaces)",
    "mixed": "in a sandbox: on some workers with no network and a read-only filesystem except the run's own "
    "folder (Linux namespaces), on others with resource limits and language guards only, without network or "
    "filesystem isolation",
}
_REASONS = {
    NO_TESTS: "the row has no tests",
    SOLUTION_FAILS_TESTS: "the reference solution does not pass its own tests",
    EQUIVALENT_MUTANT: "every planted bug tried passed the tests (it behaves like the solution)",
    SANDBOX_FAILED: "the sandbox could not start a run (no verdict was made)",
}
_NO_TOOLCHAIN = "no_toolchain_"


class OperatorRate(NamedTuple):
    """One operator's candidate bugs over all languages."""

    operator: str
    tried: int
    killed: int
    survived: int

    @property
    def survival_share(self) -> float:
        """Share of its bugs the tests did not catch (0 when none was tried)."""
        return self.survived / self.tried if self.tried else 0.0


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def _code_list(names: Sequence[str]) -> str:
    quoted = [f"`{name}`" for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def has_bugged_instruct(stats: ReleaseStats, manifest: Mapping[str, Any]) -> bool:
    """Whether the release holds bugged-instruct pairs: per the manifest's composition, else the shards'."""
    if "composition" in manifest:
        return any(cell["source"] == BUGGED_INSTRUCT and cell["rows"] > 0 for cell in manifest["composition"])
    return any(key[1] == BUGGED_INSTRUCT and rows > 0 for key, rows in stats.composition.items())


def operator_kill_rates(kill_rates: Sequence[Mapping[str, Any]]) -> list[OperatorRate]:
    """The `execution.kill_rates` rows summed per operator over all languages, sorted by operator."""
    totals: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for row in kill_rates:
        totals[row["operator"]].update({key: row[key] for key in ("tried", "killed", "survived")})
    return [OperatorRate(op, c["tried"], c["killed"], c["survived"]) for op, c in sorted(totals.items())]


def _reason_meaning(reason: str) -> str:
    if reason.startswith(_NO_TOOLCHAIN):
        return f"no toolchain for `{reason.removeprefix(_NO_TOOLCHAIN)}` on the workers"
    return _REASONS.get(reason, "")


def _rejects(manifest: Mapping[str, Any]) -> list[str]:
    """The `verify_by_execution` stage's kept rows and rejects by reason, or why they are not known."""
    stage = next((s for s in manifest.get("stages", []) if s["name"] == STAGE), None)
    if stage is None:
        return [f"The manifest lists no `{STAGE}` stage, so its rejects are not known."]
    rejected = sorted(stage["rejected"].items(), key=lambda kv: (-kv[1], kv[0]))
    kept = f"The `{STAGE}` stage kept {stage['out']:,} of {stage['in']:,} pairs"
    if not rejected:
        return [kept + " and rejected none."]
    rows = [[reason, n, _reason_meaning(reason)] for reason, n in rejected]
    return [kept + "; it rejected, by reason:", md_table(["reason", "pairs", "meaning"], rows)]


def _weak_operators(rates: Sequence[OperatorRate]) -> str | None:
    """One sentence naming the operator(s) with the highest survival share, or None if no bug survived."""
    worst = max((rate.survival_share for rate in rates), default=0.0)
    if worst == 0.0:
        return None
    weak = [rate for rate in rates if rate.survival_share == worst]
    counts = "; ".join(f"{r.survived:,} of {r.tried:,} for `{r.operator}`" for r in weak)
    subject = "The weakest operator is" if len(weak) == 1 else "The weakest operators are"
    return (
        f"{subject} {_code_list([r.operator for r in weak])}, whose bugs most often survived the tests: "
        f"{100 * worst:.1f}% of them ({counts}, all languages pooled) were too weak for the tests to catch."
    )


def _verified(manifest: Mapping[str, Any], execution: Mapping[str, Any], kill_rates_plot: str | None) -> str:
    isolation = execution.get("isolation", "none ran")
    totals = execution["totals"]
    by = totals["killed_by"]
    tried, killed = totals["tried"], totals["killed"]
    how = (
        f"ran {_ISOLATION[isolation]}"
        if isolation in _ISOLATION
        else "were to run in a sandbox, but no candidate bug reached one"
    )
    parts = [
        "The bugged-instruct pairs (Functional Correctness) were verified by execution: the reference solution "
        "and each planted bug were run against the row's tests, and a pair was kept only when the solution "
        f"passed and the bug failed. The tests {how}. A bug's operator is the mutation that planted it, or "
        f"`{LLM_BUG}` for a bug the LLM planted.",
        f"Candidate bugs tried: **{tried:,}**; killed (the tests failed): **{killed:,}**; survived (the tests "
        f"passed): **{totals['survived']:,}**; kill rate **{_percent(killed, tried)}**. Killed by a failed "
        f"assertion {by.get('assertion', 0):,}, by an error {by.get('error', 0):,}, by a timeout "
        f"{by.get('timeout', 0):,}.",
        *_rejects(manifest),
    ]
    kill_rates = sorted(execution["kill_rates"], key=lambda row: (row["language"], row["operator"]))
    if kill_rates:
        rows = [
            [r["language"], r["operator"], r["tried"], r["killed"], r["survived"], _percent(r["killed"], r["tried"])]
            for r in kill_rates
        ]
        parts += [
            "Kill rates per language and operator:",
            md_table(["language", "operator", "tried", "killed", "survived", "kill rate"], rows),
        ]
        if kill_rates_plot:
            parts.append(f"![Kill rate per operator]({kill_rates_plot})")
    weak = _weak_operators(operator_kill_rates(kill_rates))
    if weak:
        parts.append(weak)
    return "\n\n".join(parts)


def _not_verified() -> str:
    return (
        "The bugged-instruct pairs (Functional Correctness) of this release were **not** verified by execution: "
        "their rejected side holds a planted bug that no test checked, so some of them may behave exactly like "
        "the chosen solution. To verify them, give the instruction set a test column (`--test-column` on the "
        "command line, `sources.instructions.test_column` in a build config): then a pair is kept only when the "
        "solution passes its tests and the planted bug fails them."
    )


def render_execution(
    stats: ReleaseStats, manifest: Mapping[str, Any], kill_rates_plot: str | None = None
) -> str | None:
    """The body of the "Execution verification" section, or None when the card has no such section.

    Args:
        stats: the release's statistics (their composition, when the manifest has none).
        manifest: the run's manifest (`execution`, `stages`, `composition`).
        kill_rates_plot: the kill-rate figure's path relative to the README, or None for no figure.

    Returns:
        The verification's numbers when the manifest has an `execution` section; a
        not-verified note when it has none but the release holds bugged-instruct
        pairs; otherwise None.
    """
    execution = manifest.get("execution")
    if execution:
        return _verified(manifest, execution, kill_rates_plot)
    if has_bugged_instruct(stats, manifest):
        return _not_verified()
    return None
