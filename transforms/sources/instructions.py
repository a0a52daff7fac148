"""Read instruction datasets (JSONL or Parquet) as Functional Correctness pair seeds.

Rows hold an instruction and a reference solution (column names configurable, e.g.
OSS-Instruct's `problem`/`solution`), and optionally a language, the solution's
tests and the entry point the tests call (`transforms.execution` runs them). The solution may
be bare code or Markdown with a fenced block, whose info string then names the
language. Without a language column or tag, the language is detected by parsing
with every grammar (`detect_language`). Each row becomes a `PairRecord` with
`input` = instruction, `chosen` = solution, `rejected` empty (a mutant fills it),
aspect Functional Correctness and source `bugged_instruct`; its tests and entry
point (where the columns are set) ride along in the working fields `tests` and
`entry_point`.

`ReadInstructionSets`: PCollection[str] of globs → `transforms.manifest.StageOutputs`
(`main`: the pair seeds; one report, stage `read_instructions`), through the same
per-file reader as commit files (`commit_files.ReadRows`).
Reject reasons: the reader's `malformed_json`, `not_utf8` and `unreadable_file`;
`invalid_row` (not an object, an instruction or solution that is not text, or a
language, tests or entry point value that is not text), `unknown_language`, `language_undetected`,
`empty_solution`.
"""

__all__ = ["STAGE", "InstructionColumns", "ReadInstructionSets", "detect_language", "extract_code", "seed_pair"]

import dataclasses
import functools
import re
from typing import Any

import apache_beam as beam

from schemas.labels import TARGET_LANGUAGES, normalize_language
from schemas.records import PairRecord, RejectRecord
from transforms.commit_filters import record_id
from transforms.sources.commit_files import INVALID_ROW, ReadRows


STAGE = "read_instructions"
SOURCE = "bugged_instruct"
UNKNOWN_LANGUAGE = "unknown_language"
LANGUAGE_UNDETECTED = "language_undetected"
EMPTY_SOLUTION = "empty_solution"

_FENCE = re.compile(r"^(`{3,}|~{3,})[ \t]*([\w#+.-]*)[^\n]*\n(.*?)^\1[ \t]*$", re.MULTILINE | re.DOTALL)


@dataclasses.dataclass(frozen=True)
class InstructionColumns:
    """Which columns hold the instruction, the solution and (optionally) the language."""

    instruction: str = "instruction"
    solution: str = "solution"
    language: str | None = "language"
    fixed_language: str | None = None  # every row is this language (`--language`)
    tests: str | None = None  # the column of the solution's tests (`--test-column`)
    entry_point: str | None = None  # the column naming the function the tests call


def extract_code(text: str) -> tuple[str, str | None]:
    """Returns (code, fence language tag or None): the first fenced block, else the text."""
    match = _FENCE.search(text)
    if match:
        return match.group(3), (match.group(2) or None)
    return text, None


def detect_language(code: str) -> str | None:
    """Returns the one language whose grammar parses the code without errors, else None.

    When several parse cleanly (C is valid C++; small snippets fit many grammars),
    the one with the most named nodes wins, ties going to the first in label order;
    when none parses cleanly the code is left undetected rather than guessed.
    """
    from transforms.code.parsing import parse_code

    best: tuple[int, int, str] | None = None
    for order, language in enumerate(TARGET_LANGUAGES):
        _, stats = parse_code(code, language)
        if stats.has_error:
            continue
        key = (stats.node_count, -order, language)
        if best is None or key > best:
            best = key
    return best[2] if best else None


def seed_pair(raw: Any, columns: InstructionColumns, where: str) -> PairRecord | RejectRecord:
    """Turns one instruction row into a pair seed, or a reject."""
    if not isinstance(raw, dict):
        return RejectRecord.make(STAGE, INVALID_ROW, where, f"{where}: not an object", raw)
    instruction, solution = raw.get(columns.instruction), raw.get(columns.solution)
    if not isinstance(instruction, str) or not isinstance(solution, str):
        fields = [c for c in (columns.instruction, columns.solution) if not isinstance(raw.get(c), str)]
        return RejectRecord.make(STAGE, INVALID_ROW, where, f"{where}: missing or non-text {', '.join(fields)}", raw)
    code, tag = extract_code(solution)
    if not code.strip():
        return RejectRecord.make(STAGE, EMPTY_SOLUTION, where, where, raw)
    given = raw.get(columns.language) if columns.language and not columns.fixed_language else None
    if given is not None and not isinstance(given, str):  # a number or a bool names no language
        return RejectRecord.make(STAGE, INVALID_ROW, where, f"{where}: {columns.language} is not text", raw)
    language = columns.fixed_language or (normalize_language(given) if given else normalize_language(tag))
    if given and language is None:
        return RejectRecord.make(STAGE, UNKNOWN_LANGUAGE, where, f"{where}: {given!r}", raw)
    language = language or detect_language(code)
    if language is None:
        return RejectRecord.make(STAGE, LANGUAGE_UNDETECTED, where, f"{where}: no grammar parses it cleanly", raw)
    tests = _optional_text(raw, columns.tests)
    entry_point = _optional_text(raw, columns.entry_point)
    if tests is None or entry_point is None:
        bad = columns.tests if tests is None else columns.entry_point
        return RejectRecord.make(STAGE, INVALID_ROW, where, f"{where}: {bad} is not text", raw)
    if tests:
        tests = extract_code(tests)[0]
    return PairRecord(
        idx=record_id(instruction, code),
        input=instruction.strip(),
        chosen=code,
        rejected="",
        language=language,
        aspect="Functional Correctness",
        source=SOURCE,
        tests=tests,
        entry_point=entry_point.strip(),
    )


def _optional_text(raw: dict, column: str | None) -> str | None:
    """The row's text in `column` ("" when no column is set or the value is missing or null); None if not text."""
    value = raw.get(column) if column else None
    if value is None:
        return ""
    return value if isinstance(value, str) else None


@dataclasses.dataclass
class ReadInstructionSets(beam.PTransform):
    """Reads instruction datasets into pair seeds; see the module docstring."""

    columns: InstructionColumns = InstructionColumns()

    def expand(self, patterns: beam.PCollection[str]):  # returns StageOutputs
        return patterns | "Read" >> ReadRows(STAGE, functools.partial(seed_pair, columns=self.columns))
