"""The keep rule of execution-verified pairs, pair by pair; no Beam here.

`verify_pair(pair, settings)` runs `pair.chosen` against `pair.tests`, then the
candidate bugs one by one, and keeps the pair only when the solution passes and
a bug breaks the tests:

1. no tests on the row: reject `no_tests`; no toolchain for the language:
   `no_toolchain_<slug>` (`transforms.execution.languages.language_slug`);
2. the solution does not pass its own tests: `solution_fails_tests` (the
   verdict and its detail say why);
3. the candidates are `pair.mutants` (AST mutations, in the seeded order of
   `transforms.code.mutations.mutants`) or, without them, the rejected side as
   it is (the LLM's planted bug). Where the runner traces (Python) and
   `prefer_covered` holds, mutants on lines the tests executed go first, the
   rest after, each group in its seeded order;
4. up to `max_attempts` candidates run; the first that fails the tests
   (`assertion`, `error` or `timeout`) becomes the rejected side, and
   `label_details.execution` records `killed_by`, the `phase` it failed in
   (`build`: it did not compile; `test`), `attempts` and whether the mutated line
   was covered; if every one passes: `equivalent_mutant`.

A run the sandbox could not start (after its retries) rejects the pair
`sandbox_failed` rather than count as a verdict.

Every candidate run is an `Attempt` (language, operator, killed or survived and
how), for the kill rates of the manifest and the card.
"""

__all__ = [
    "EQUIVALENT_MUTANT",
    "LLM_BUG",
    "NO_TESTS",
    "SANDBOX_FAILED",
    "SOLUTION_FAILS_TESTS",
    "Attempt",
    "Settings",
    "Verified",
    "no_toolchain_reason",
    "verify_pair",
]

import dataclasses
import hashlib
from typing import NamedTuple

from schemas.records import PairRecord, RejectRecord
from transforms.code.mutations.records import Mutant
from transforms.code.planted import mutation_details, with_mutant
from transforms.execution.languages import RUNNERS, language_slug, missing_toolchain
from transforms.execution.run import Verdict, run_tests
from transforms.execution.sandbox import Isolation, Limits, SandboxError
from transforms.llm.requests import merge_details


STAGE = "verify_by_execution"
NO_TESTS = "no_tests"
SOLUTION_FAILS_TESTS = "solution_fails_tests"
EQUIVALENT_MUTANT = "equivalent_mutant"
SANDBOX_FAILED = "sandbox_failed"
LLM_BUG = "llm_bug"
"""The operator name of a bug the LLM planted, in the kill rates."""


def no_toolchain_reason(language: str) -> str:
    """The reject reason of a row whose language's toolchain is not installed."""
    return f"no_toolchain_{language_slug(language)}"


@dataclasses.dataclass(frozen=True)
class Settings:
    """What `verify_pair` needs besides the pair.

    Attributes:
        limits: one test run's limits.
        isolation: the sandbox's isolation on this worker.
        max_attempts: the most candidates run per pair.
        prefer_covered: run mutants on executed lines first.
    """

    limits: Limits
    isolation: Isolation
    max_attempts: int = 8
    prefer_covered: bool = True


class Attempt(NamedTuple):
    """One candidate bug run against the tests.

    Attributes:
        language: the pair's language.
        operator: the mutation operator, or `LLM_BUG`.
        outcome: the verdict's outcome: `passed` (the bug survived), `assertion`, `error` or `timeout`.
        isolated: it ran in the sandbox's namespaces (no network, read-only filesystem).
    """

    language: str
    operator: str
    outcome: str
    isolated: bool


class Verified(NamedTuple):
    """`verify_pair`'s answer: the kept pair or a reject, and every candidate run."""

    result: PairRecord | RejectRecord
    attempts: tuple[Attempt, ...]


def _candidates(pair: PairRecord) -> list[Mutant | None]:
    """The bugs to try: the AST mutants, or None for the rejected side as it is (an LLM's bug)."""
    return list(pair.mutants) if pair.mutants else [None]


def _ordered(candidates: list[Mutant | None], covered: frozenset[int]) -> list[Mutant | None]:
    if not covered:
        return candidates
    on = [m for m in candidates if m is not None and m.line in covered]
    return on + [m for m in candidates if m is None or m.line not in covered]


def _cleared(pair: PairRecord) -> PairRecord:
    return pair._replace(tests="", entry_point="", mutants=())


def _reject(pair: PairRecord, reason: str, detail: str, payload: dict | None = None) -> RejectRecord:
    return RejectRecord.make(STAGE, reason, pair.idx, detail[:1000], payload)


def verify_pair(pair: PairRecord, settings: Settings) -> Verified:
    """Keeps `pair` only if its solution passes and a candidate bug fails; see the module docstring.

    A sandbox that could not start a run (`SandboxError`, after its retries) rejects the
    pair `sandbox_failed`: no verdict is made up, and the attempts so far are not reported.
    """
    try:
        return _verify(pair, settings)
    except SandboxError as exc:
        return Verified(_reject(pair, SANDBOX_FAILED, str(exc)), ())


def _verify(pair: PairRecord, settings: Settings) -> Verified:
    if not pair.tests.strip():
        return Verified(_reject(pair, NO_TESTS, "the row has no tests"), ())
    tool = missing_toolchain(pair.language) if pair.language in RUNNERS else "a runner"
    if tool:
        return Verified(_reject(pair, no_toolchain_reason(pair.language), f"{tool} is not installed"), ())
    trace = settings.prefer_covered and RUNNERS[pair.language].traces and bool(pair.mutants)
    chosen = run_tests(
        pair.language, pair.chosen, pair.tests, pair.entry_point, settings.limits, settings.isolation, trace=trace
    )
    if chosen.outcome != "passed":
        detail = f"{chosen.outcome} ({chosen.phase}): {chosen.detail}"
        return Verified(_reject(pair, SOLUTION_FAILS_TESTS, detail, {"outcome": chosen.outcome}), ())
    covered = frozenset(chosen.lines)
    attempts: list[Attempt] = []
    tried: list[dict] = []
    for candidate in _ordered(_candidates(pair), covered)[: settings.max_attempts]:
        code = pair.rejected if candidate is None else candidate.code
        verdict = run_tests(pair.language, code, pair.tests, pair.entry_point, settings.limits, settings.isolation)
        operator = LLM_BUG if candidate is None else candidate.operator
        attempts.append(Attempt(pair.language, operator, verdict.outcome, settings.isolation.namespaces))
        if verdict.outcome != "passed":
            return Verified(_kept(pair, candidate, verdict, len(attempts), covered), tuple(attempts))
        tried.append({"operator": operator, **(mutation_details(candidate) if candidate else {})})
    detail = f"{len(attempts)} candidate bug(s) all passed the tests"
    return Verified(_reject(pair, EQUIVALENT_MUTANT, detail, {"tried": tried}), tuple(attempts))


def _kept(
    pair: PairRecord, candidate: Mutant | None, verdict: Verdict, attempts: int, covered: frozenset[int]
) -> PairRecord:
    kept = pair if candidate is None else with_mutant(pair, candidate)
    execution = {
        "killed_by": verdict.outcome,
        "phase": verdict.phase,
        "attempts": attempts,
        "tests_sha256": hashlib.sha256(pair.tests.encode("utf-8", "surrogatepass")).hexdigest()[:16],
    }
    if covered and candidate is not None:
        execution["mutated_line_covered"] = candidate.line in covered
    return _cleared(kept)._replace(label_details=merge_details(kept.label_details, "execution", execution))
