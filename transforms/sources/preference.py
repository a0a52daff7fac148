"""Source: external preference datasets → `PairRecord`s (stages `read_<name>`, `efficiency_<name>`).

A `schemas.build.PreferenceSource` says where the rows are (JSONL/Parquet files,
or a Hugging Face dataset streamed through `datasets` when online) and how to
read them, itself or through a `PRESETS` layout:

* pair datasets (`columns`): a row is one pair. The prompt, chosen and rejected
  must be non-empty text (the prompt may come from `prompt_template`); the
  language and criterion come from a column or a constant.
* solution datasets (`efficiency`): a row is one measured solution, or a problem
  with lists of them. Solutions of one problem (and submitter) are grouped and
  paired by `efficiency_pairs`: chosen at least `min_ratio` times faster (Runtime
  Efficiency) or smaller (Memory Efficiency) than rejected.

Stage `read_<name>` rejects `not_kept` (fails a `keep` rule; a bool matches only
a bool), `missing_field` (also a `prompt_template` the row's values do not fit),
`unknown_language`, `unknown_aspect` and `no_measurement` (a bool, a list or a
number beyond any float is no measurement), plus the readers' `malformed_json`,
`not_utf8` and `unreadable_file`. Stage `efficiency_<name>` counts
solutions: one in at least one pair is `out`, the others are rejected `unpaired`.
`ReadPreferenceSource` returns `transforms.manifest.StageOutputs`: the pairs, the
rejects of its stages and their reports, `read_<name>` and, for a solution dataset,
`efficiency_<name>` (made from `read_<name>`'s rows; it `expands`: it passes on the
pairs made of the solutions it counts).

A pair's `idx` is a UUID from a hash of its source, criterion and texts, so reading a
dataset twice gives the same ids; its `license` is the source's, which the user
states from the dataset's card (`resolve_preset` refuses a source without one, or
with one that is not permissive). The presets' layouts were checked against the
datasets' cards and loaders; none assumes a licence.
"""

__all__ = [
    "PRESETS",
    "ReadPreferenceSource",
    "efficiency_pairs",
    "pair_from_mapped",
    "pair_id",
    "resolve_preset",
    "solutions_from_row",
]

import dataclasses
import functools
import hashlib
import json
import math
import uuid
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import apache_beam as beam

from schemas.build import ColumnMap, PreferenceSource
from schemas.labels import normalize_aspect, pair_language
from schemas.records import PairRecord, RejectRecord
from transforms.licenses import PERMISSIVE_LICENSES, normalize_license
from transforms.manifest import StageOutputs, StageReport
from transforms.metrics import TAG_MAIN, TAG_REJECTED
from transforms.sources.commit_files import ReadRows


MISSING_FIELD, UNKNOWN_LANGUAGE, UNKNOWN_ASPECT = "missing_field", "unknown_language", "unknown_aspect"
NOT_KEPT, NO_MEASUREMENT, UNPAIRED = "not_kept", "no_measurement", "unpaired"
RUNTIME, MEMORY = "Runtime Efficiency", "Memory Efficiency"

PRESETS: dict[str, dict[str, Any]] = {
    # CyberNative/Code_Vulnerability_Security_DPO: lang, vulnerability, system, question, chosen (secure), rejected.
    "cybernative-dpo": {
        "columns": {"prompt": "question", "chosen": "chosen", "rejected": "rejected", "language": "lang"},
        "aspect": "Security Hardness",
    },
    # prosecalign/prosec-mixed-clm7b-inst: lang, cwe, original_instruction, original_code (vulnerable),
    # fixed_code (secure), benign (rows that keep utility rather than fix a flaw: left out).
    "prosec": {
        "columns": {
            "prompt": "original_instruction",
            "chosen": "fixed_code",
            "rejected": "original_code",
            "language": "lang",
        },
        "aspect": "Security Hardness",
        "keep": {"benign": False},
    },
    # ASSERT-KTH/RunBugRun-Final: problem_id, buggy_code, fixed_code, labels, *_submission_id, user_id, language.
    "runbugrun": {
        "columns": {"prompt": None, "chosen": "fixed_code", "rejected": "buggy_code", "language": "language"},
        "aspect": "Functional Correctness",
        "prompt_template": "Write a {language} program that solves problem {problem_id}: read the input from "
        "standard input and print the answer to standard output.",
    },
    # CodeEff/ECCO, config `edit`: problem_id, input (slower program), target (faster program); Python.
    "ecco-edit": {
        "columns": {"prompt": None, "chosen": "target", "rejected": "input", "language": None},
        "language": "Python",
        "aspect": "Runtime Efficiency",
        "prompt_template": "Write an efficient Python program that solves problem {problem_id}: read the input "
        "from standard input and print the answer to standard output.",
    },
    # PIE (madaan/pie-perf trajectories, mirrored as rootacess/pie-perf): user_id, problem_id, language,
    # input (slower program v0), target (faster program v1), cpu_time_v0/v1, memory_v0/v1, status_v0/v1, ...
    "pie-perf": {
        "columns": {"prompt": None, "chosen": "target", "rejected": "input", "language": "language"},
        "aspect": "Runtime Efficiency",
        "prompt_template": "Write an efficient {language} program that solves Project CodeNet problem "
        "{problem_id}: read the input from standard input and print the answer to standard output.",
    },
    # iNeil77/CodeNet (one config per language): s_id, p_id, u_id, date, language, original_language,
    # filename_ext, status, cpu_time (ms), memory (KB), code_size, code; every column a string.
    "codenet": {
        "columns": {"prompt": None, "language": "language"},
        "efficiency": {
            "problem": "p_id",
            "submitter": "u_id",
            "code": "code",
            "runtime": "cpu_time",
            "memory": "memory",
        },
        "keep": {"status": "Accepted"},
        "prompt_template": "Write a {language} program that solves Project CodeNet problem {p_id}: read the input "
        "from standard input and print the answer to standard output.",
    },
    # Elfsong/Venus (one config per language, e.g. python3): question_id, name, content (the problem, HTML),
    # rt_list [{code, runtime (ms)}], mm_list [{code, memory (KB)}], ...
    "venus": {
        "columns": {"prompt": None, "language": None},
        "efficiency": {
            "problem": "question_id",
            "prompt": "content",
            "code": "code",
            "runtime": "runtime",
            "memory": "memory",
            "solutions": ["rt_list", "mm_list"],
        },
        "language": "Python",
    },
}
"""Known public layouts: preset name → `PreferenceSource` fields (see `resolve_preset`)."""


def resolve_preset(source: PreferenceSource) -> PreferenceSource:
    """The source with its preset's fields filled in where the source leaves them unset.

    Raises:
        ValueError: an unknown preset, no licence, or a licence that is not permissive.
    """
    if source.preset is not None:
        if source.preset not in PRESETS:
            raise ValueError(
                f"preference source {source.name}: unknown preset {source.preset!r}; "
                f"known: {', '.join(sorted(PRESETS))}"
            )
        source = PreferenceSource.model_validate({**PRESETS[source.preset], **source.model_dump(exclude_unset=True)})
    if source.license is None:
        raise ValueError(
            f"preference source {source.name}: give the licence from the dataset's card (license: an SPDX id)"
        )
    license_id = normalize_license(source.license)
    if license_id not in PERMISSIVE_LICENSES:
        raise ValueError(
            f"preference source {source.name}: licence {source.license} is not permissive; "
            f"only {', '.join(PERMISSIVE_LICENSES)} reach the output"
        )
    return source.model_copy(update={"license": license_id, "columns": source.columns or ColumnMap()})


def pair_id(source: str, aspect: str, prompt: str, chosen: str, rejected: str) -> str:
    """A UUID from a hash of the pair's source, criterion and texts."""
    text = "\x1f".join((source, aspect, prompt, chosen, rejected))
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass"))
    return str(uuid.UUID(bytes=digest.digest()[:16]))


def _text(row: dict, column: str | None) -> str | None:
    value = row.get(column) if column else None
    return value if isinstance(value, str) and value.strip() else None


def _language(value: Any) -> str | None:
    return pair_language(value) if isinstance(value, str) else None


class _RowError(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def _same(found: Any, wanted: Any) -> bool:  # noqa: ANN401
    """Equal, and a bool only to a bool: `0 == False` in Python, but 0 is not the flag `false`."""
    return found == wanted and isinstance(found, bool) == isinstance(wanted, bool)


def _checked(raw: Any, source: PreferenceSource) -> dict:
    """The row, if it is an object that passes the `keep` rules."""
    if not isinstance(raw, dict):
        raise _RowError(MISSING_FIELD, "not an object")
    failed = [
        f"{column}={raw.get(column)!r}" for column, value in source.keep.items() if not _same(raw.get(column), value)
    ]
    if failed:
        raise _RowError(NOT_KEPT, f"{', '.join(failed)} (keep: {source.keep})")
    return raw


def _prompt(row: dict, column: str | None, source: PreferenceSource) -> str:
    if column:
        text = _text(row, column)
        if text is None:
            raise _RowError(MISSING_FIELD, f"no text in {column}")
        return text
    if source.prompt_template is None:
        raise _RowError(MISSING_FIELD, "no prompt column and no prompt_template")
    try:
        return source.prompt_template.format(**row)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError) as exc:  # the row's values do not fit it
        raise _RowError(MISSING_FIELD, f"prompt_template needs {exc}") from exc


def _row_language(row: dict, source: PreferenceSource) -> str:
    value = source.language if source.language is not None else row.get(source.columns.language or "")
    language = _language(value)
    if language is None:
        raise _RowError(UNKNOWN_LANGUAGE, f"language {value!r}")
    return language


def _rejected(stage: str, where: str, problem: _RowError, raw: Any) -> RejectRecord:
    return RejectRecord.make(stage, problem.reason, where, f"{where}: {problem.detail}", raw)


def pair_from_mapped(raw: Any, where: str, source: PreferenceSource) -> PairRecord | RejectRecord:
    """One row of a pair dataset (`source` resolved by `resolve_preset`) → a `PairRecord`, or a reject."""
    columns = source.columns
    try:
        row = _checked(raw, source)
        prompt = _prompt(row, columns.prompt, source)
        chosen, rejected = _text(row, columns.chosen), _text(row, columns.rejected)
        if chosen is None or rejected is None:
            raise _RowError(MISSING_FIELD, f"no text in {columns.chosen if chosen is None else columns.rejected}")
        language = _row_language(row, source)
        value = source.aspect if source.aspect is not None else row.get(columns.aspect or "")
        aspect = normalize_aspect(value)
        if aspect is None:
            raise _RowError(UNKNOWN_ASPECT, f"criterion {value!r}")
    except _RowError as problem:
        return _rejected(f"read_{source.name}", where, problem, raw)
    return PairRecord(
        idx=pair_id(source.name, aspect, prompt, chosen, rejected),
        input=prompt,
        chosen=chosen,
        rejected=rejected,
        language=language,
        aspect=aspect,
        source=source.name,
        license=source.license,
    )


def _list(value: Any) -> list:  # noqa: ANN401
    """A column of solutions: a list, or nothing (a number, a text or a mapping holds no list of them)."""
    return value if isinstance(value, list) else []


class Solution(NamedTuple):
    """One measured solution of a problem."""

    prompt: str
    code: str
    language: str
    runtime: float | None
    memory: float | None
    where: str


def _number(value: Any) -> float | None:
    """A positive finite measurement (numbers stored as strings too), else None; a bool is no number."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer beyond any float
        return None
    return number if math.isfinite(number) and number > 0 else None


def solutions_from_row(
    raw: Any, where: str, source: PreferenceSource
) -> tuple[tuple[str, str], list[Solution]] | RejectRecord:
    """One row of a solution dataset → ((problem, submitter), its measured solutions), or a reject."""
    eff = source.efficiency
    assert eff is not None
    try:
        row = _checked(raw, source)
        if row.get(eff.problem) is None:
            raise _RowError(MISSING_FIELD, f"no {eff.problem}")
        prompt, language = _prompt(row, eff.prompt, source), _row_language(row, source)
        if language == "NL":
            raise _RowError(UNKNOWN_LANGUAGE, "efficiency pairs are code")
        if not eff.solutions:
            items = [(where, row)]
        else:
            items = [
                (f"{where} {column}[{i}]", item)
                for column in eff.solutions
                for i, item in enumerate(_list(row.get(column)))
                if isinstance(item, dict)
            ]
        solutions = []
        for item_where, item in items:
            code = _text(item, eff.code)
            runtime = _number(item.get(eff.runtime)) if eff.runtime else None
            memory = _number(item.get(eff.memory)) if eff.memory else None
            if code is not None and (runtime is not None or memory is not None):
                solutions.append(Solution(prompt, code, language, runtime, memory, item_where))
        if not solutions:
            raise _RowError(NO_MEASUREMENT, f"no solution with {eff.code} and a positive {eff.runtime or eff.memory}")
    except _RowError as problem:
        return _rejected(f"read_{source.name}", where, problem, raw)
    submitter = str(row.get(eff.submitter, "")) if eff.submitter else ""
    return (f"{language}\x1f{row[eff.problem]}", submitter), solutions


def efficiency_pairs(solutions: list[Solution], source: PreferenceSource) -> tuple[list[PairRecord], set[int]]:
    """Pairs of one group's solutions, and the indexes of the solutions used.

    For each measurement, solutions are ranked (ties by code, so the order does not
    depend on the input's); the i-th best and the i-th worst make pair i while the
    worse costs at least `min_ratio` times the better, up to `max_pairs`. The same
    code never faces itself. A pair's `label_details` holds its measurements as JSON.
    """
    eff = source.efficiency
    assert eff is not None
    pairs, used = [], set()
    for aspect, field in ((RUNTIME, "runtime"), (MEMORY, "memory")):
        ranked = sorted(
            (i for i, s in enumerate(solutions) if getattr(s, field) is not None),
            key=lambda i: (getattr(solutions[i], field), solutions[i].code),
        )
        for k in range(min(eff.max_pairs, len(ranked) // 2)):
            best, worst = solutions[ranked[k]], solutions[ranked[-1 - k]]
            better, worse = getattr(best, field), getattr(worst, field)
            if worse < eff.min_ratio * better or best.code == worst.code:
                break
            efficiency = {"measure": field, "chosen": better, "rejected": worse, "ratio": round(worse / better, 3)}
            pair = PairRecord(
                idx=pair_id(source.name, aspect, best.prompt, best.code, worst.code),
                input=best.prompt,
                chosen=best.code,
                rejected=worst.code,
                language=best.language,
                aspect=aspect,
                source=source.name,
                license=source.license,
                label_details=json.dumps({"efficiency": efficiency}),
            )
            pairs.append(pair)
            used.update((ranked[k], ranked[-1 - k]))
    return pairs, used


TAG_USED = "used"  # the solutions a pair was made of


def _pair_group(item: tuple[tuple[str, str], Iterable[list[Solution]]], source: PreferenceSource) -> Iterator[Any]:
    (problem, submitter), lists = item
    solutions = sorted((s for group in lists for s in group), key=lambda s: (s.code, s.where))
    pairs, used = efficiency_pairs(solutions, source)
    yield from pairs
    stage, ratio = f"efficiency_{source.name}", source.efficiency.min_ratio
    for i, solution in enumerate(solutions):
        if i in used:
            yield beam.pvalue.TaggedOutput(TAG_USED, solution.where)
            continue
        detail = (
            f"no other solution of {problem.split(chr(31))[1]}{' by ' + submitter if submitter else ''} "
            f"is {ratio:g}× apart from it"
        )
        reject = RejectRecord.make(stage, UNPAIRED, solution.where, detail, solution._asdict())
        yield beam.pvalue.TaggedOutput(TAG_REJECTED, reject)


def _iter_hub_rows(spec: str) -> Iterator[tuple[str, Any]]:
    """Rows of `hub:<dataset id>:<split>`, streamed through `datasets` (needs the network)."""
    import datasets

    _, name, split = spec.split(":", 2)
    for number, row in enumerate(datasets.load_dataset(name, split=split, streaming=True), start=1):
        yield f"{name}[{split}] row {number}", row


@dataclasses.dataclass
class ReadPreferenceSource(beam.PTransform):
    """Reads one external preference dataset into `PairRecord`s; see the module docstring.

    Attributes:
        source: the dataset, its preset resolved (`resolve_preset`).
    """

    source: PreferenceSource

    def expand(self, p: beam.pvalue.PBegin):  # returns StageOutputs
        source, name = self.source, self.source.name
        efficiency = source.efficiency is not None
        convert = functools.partial(solutions_from_row if efficiency else pair_from_mapped, source=source)
        stage = f"read_{name}"
        if source.hub:
            spec = p | "HubSpec" >> beam.Create([f"hub:{source.hub}:{source.split}"])
            read = spec | "ReadHub" >> ReadRows(stage, convert, rows=_iter_hub_rows)
        else:
            read = p | "Patterns" >> beam.Create(sorted(source.files)) | "ReadFiles" >> ReadRows(stage, convert)
        if not efficiency:
            return read
        solutions = read.main | "CountSolutions" >> beam.Map(lambda kv: len(kv[1]))
        paired = (
            read.main
            | "GroupByProblem" >> beam.GroupByKey()
            | "Pair" >> beam.FlatMap(_pair_group, source).with_outputs(TAG_USED, TAG_REJECTED, main=TAG_MAIN)
        )
        # in: the solutions of the rows read; out: the solutions paired; it passes on the pairs made of them
        unpaired = paired[TAG_REJECTED]
        pairing = StageReport(
            f"efficiency_{name}", solutions, paired[TAG_USED], unpaired, made_from=(stage,), expands=True
        )
        rejected = (read.rejected, unpaired) | "AllRejects" >> beam.Flatten()
        return StageOutputs(paired[TAG_MAIN], rejected, (*read.reports, pairing))
