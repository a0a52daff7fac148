"""Parse an LLM answer into its answer model, or say exactly why it cannot be.

`parse_answer(text, name_or_model, mode)` returns a validated pydantic answer
(`schemas.llm.RatingAnswer`, `JudgeAnswer`, ...) or a `ParseFailure(reason,
detail)`. It never raises on model output and never guesses: an answer that
could be read two ways is a failure, not a coin toss.

Reasons (stable snake_case, for reject records and `rejected:<reason>` counters):

- `empty`: no text, or only whitespace (or only a reasoning block).
- `no_json`: JSON mode, and the text holds no `{`.
- `invalid_json`: JSON mode, and no object could be decoded (malformed or
  truncated JSON).
- `schema_mismatch`: the answer object lacks a required field, or a field has
  the wrong type.
- `missing_tag`: tags mode, and a required tag is absent or never closed (a
  truncated answer), or the text stopped inside a reasoning block.
- `ambiguous`: two answers that disagree: a verdict or rating tag repeated with
  different values, two answer objects with different contents, or one JSON key
  given twice with different values.
- `invalid_value`: a verdict that is not A, B or TIE, a rating that is not a
  whole number from 1 to 5, or an empty text field.

Rules common to both modes:

- A leading reasoning block is dropped first: text up to a closing `</think>`
  when the text opens with `<think>` or closes a block it never opened (chat
  templates that put `<think>` in the prompt). An unclosed leading `<think>` is
  a truncated answer (`missing_tag` in tags mode, `no_json` in JSON modes).
- Verdicts are normalised: surrounding whitespace, Markdown emphasis, backticks,
  quotes and a final full stop are removed, case is ignored, and an optional
  `Completion ` prefix is accepted (the prompts call the sides "completion A/B",
  so it names one side unambiguously). `a` → `A`, `Tie` → `TIE`. Anything else
  (`A or B`, `Both`, `Neither`, `Response A`, `A is better`) is `invalid_value`.
- Ratings: an integer 1–5, or a string holding only such an integer with an
  optional `/5` (`"4"`, `"**4**"`, `"4/5"`). Floats with no fractional part are
  accepted in JSON (`4.0`); booleans, `4.5`, `3 out of 5`, `0`, `6` are not.
- Text fields are stripped; an empty one is `invalid_value`. `buggy_code` also
  loses one Markdown fence that wraps all of it.

JSON modes (`json_schema`, `json_object_schema`): objects are decoded at each
`{` in turn with `json.JSONDecoder.raw_decode(strict=False)`, so fences, prose
around the object and raw newlines inside strings (common with small local
models) do no harm. An object counts as an answer when it has every required
field; extra keys are ignored (models add `confidence` and the like, and the
required fields decide the answer). Two or more answer objects must agree.
When no object is an answer, the first thing that looked like JSON decides the
reason: a decode error gives `invalid_json`, an object gives `schema_mismatch`.

Tags mode: field `verdict` is read from `[JUDGEMENT]` (or `[JUDGMENT]`), every
other field from its name in capitals (`[SUMMARY]`, `[RATING]`,
`[PROBLEM_STATEMENT]`, ...); tag names are case-insensitive. A text field takes
the content of its first complete tag pair. Verdict and rating tags found
inside another field's text (an evaluation that quotes the answer format) are
ignored; the ones outside must all agree. A JSON answer given in tags mode, or
the reverse, is not converted: it fails.
"""

__all__ = [
    "AMBIGUOUS",
    "EMPTY",
    "FAILURE_REASONS",
    "INVALID_JSON",
    "INVALID_VALUE",
    "MISSING_TAG",
    "NO_JSON",
    "SCHEMA_MISMATCH",
    "ParseFailure",
    "field_tags",
    "normalize_rating",
    "normalize_verdict",
    "parse_answer",
]

import json
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from schemas.llm import OutputMode
from transforms.llm.templates import OUTPUT_MODES, answer_model


EMPTY = "empty"
NO_JSON = "no_json"
INVALID_JSON = "invalid_json"
SCHEMA_MISMATCH = "schema_mismatch"
MISSING_TAG = "missing_tag"
AMBIGUOUS = "ambiguous"
INVALID_VALUE = "invalid_value"

FAILURE_REASONS: tuple[str, ...] = (
    EMPTY,
    NO_JSON,
    INVALID_JSON,
    SCHEMA_MISMATCH,
    MISSING_TAG,
    AMBIGUOUS,
    INVALID_VALUE,
)
"""Every reason a `ParseFailure` can carry."""

_DETAIL_CHARS = 300


class ParseFailure(NamedTuple):
    """Why an answer could not be parsed.

    Attributes:
        reason: one of `FAILURE_REASONS`.
        detail: a short human-readable explanation.
    """

    reason: str
    detail: str


def _clip(text: str) -> str:
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 3] + "..."


# --- value normalisation ---

_DECORATION = " \t\r\n*_`'\""
_VERDICT_RE = re.compile(r"(?:completion\s+)?(a|b|tie)", re.IGNORECASE)
_RATING_RE = re.compile(r"([1-5])\s*(?:/\s*5)?")


def _undecorate(text: str) -> str:
    text = text.strip(_DECORATION)
    if text.endswith("."):
        text = text[:-1].strip(_DECORATION)
    return text


def normalize_verdict(value: Any) -> str | None:
    """Returns `A`, `B` or `TIE` for a verdict written in an accepted form, else None.

    Args:
        value: the raw verdict, e.g. `" **a** "`, `"Tie"` or `"Completion B"`.
    """
    if not isinstance(value, str):
        return None
    match = _VERDICT_RE.fullmatch(_undecorate(value))
    return match.group(1).upper() if match else None


def normalize_rating(value: Any) -> int | None:
    """Returns the rating 1–5 for a value written in an accepted form, else None.

    Args:
        value: the raw rating, e.g. `4`, `4.0`, `"4"`, `"**4**"` or `"4/5"`.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return value if 1 <= value <= 5 else None
    if isinstance(value, str):
        match = _RATING_RE.fullmatch(_undecorate(value))
        return int(match.group(1)) if match else None
    return None


_NORMALIZERS: dict[str, Callable[[Any], Any]] = {"verdict": normalize_verdict, "rating": normalize_rating}
_CODE_FIELDS = frozenset({"buggy_code"})
_FIELD_TAGS: dict[str, tuple[str, ...]] = {"verdict": ("JUDGEMENT", "JUDGMENT")}
_FENCED_RE = re.compile(r"(`{3,}|~{3,})[^\n]*\n(.*?)\n?\1", re.DOTALL)


def field_tags(field: str) -> tuple[str, ...]:
    """Returns the tag names a field is read from in tags mode, preferred first."""
    return _FIELD_TAGS.get(field, (field.upper(),))


def _unfence(code: str) -> str:
    match = _FENCED_RE.fullmatch(code)
    return match.group(2) if match else code


def _check_fields(data: dict[str, Any], model: type[BaseModel], source: str) -> BaseModel | ParseFailure:
    """Normalises decisive fields, strips text fields, then validates with the model."""
    data = dict(data)
    for field, info in model.model_fields.items():
        if field not in data:
            continue
        value = data[field]
        if field in _NORMALIZERS:
            normalized = _NORMALIZERS[field](value)
            if normalized is None:
                return ParseFailure(INVALID_VALUE, _clip(f"{source}: {field} {value!r} is not accepted"))
            data[field] = normalized
        elif info.annotation is str and isinstance(value, str):
            value = value.strip()
            if field in _CODE_FIELDS:
                value = _unfence(value).strip("\n")
            if not value.strip():
                return ParseFailure(INVALID_VALUE, f"{source}: {field} is empty")
            data[field] = value
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in error.errors())
        return ParseFailure(SCHEMA_MISMATCH, _clip(f"{source}: {problems}"))


# --- reasoning blocks ---

_THINK_OPEN_RE = re.compile(r"\s*<think>", re.IGNORECASE)
_THINK_CLOSE_RE = re.compile(r"</think>", re.IGNORECASE)


def _drop_reasoning(text: str) -> str | None:
    """Removes a leading reasoning block; None when the text ends inside one."""
    close = _THINK_CLOSE_RE.search(text)
    if _THINK_OPEN_RE.match(text):
        return text[close.end() :] if close else None
    if close and "<think>" not in text[: close.start()].lower():
        return text[close.end() :]
    return text


# --- JSON modes ---


class _DuplicateKeyError(ValueError):
    pass


def _reject_conflicting_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj and obj[key] != value:
            raise _DuplicateKeyError(key)
        obj[key] = value
    return obj


_DECODER = json.JSONDecoder(strict=False, object_pairs_hook=_reject_conflicting_keys)


def _parse_json(body: str, model: type[BaseModel]) -> BaseModel | ParseFailure:
    start = body.find("{")
    if start < 0:
        return ParseFailure(NO_JSON, "no JSON object in the answer")
    required = {name for name, info in model.model_fields.items() if info.is_required()}
    first: ParseFailure | dict[str, Any] | None = None
    answers: list[dict[str, Any]] = []
    while start >= 0:
        try:
            obj, end = _DECODER.raw_decode(body, start)
        except _DuplicateKeyError as error:
            return ParseFailure(AMBIGUOUS, f"JSON key {error.args[0]!r} is given twice with different values")
        except json.JSONDecodeError as error:
            if first is None:
                first = ParseFailure(INVALID_JSON, f"{error.msg} (character {error.pos})")
            start = body.find("{", start + 1)
            continue
        if first is None:
            first = obj
        if required <= obj.keys():
            answers.append(obj)
        start = body.find("{", end)
    if not answers:
        if isinstance(first, ParseFailure):
            return first
        missing = sorted(required - first.keys())
        return ParseFailure(SCHEMA_MISMATCH, _clip(f"JSON object lacks {missing}; has {sorted(first.keys())}"))
    results = [_check_fields(obj, model, "JSON") for obj in answers]
    if len(results) == 1:
        return results[0]
    if all(isinstance(r, BaseModel) for r in results) and all(r == results[0] for r in results):
        return results[0]
    return ParseFailure(AMBIGUOUS, f"{len(results)} JSON answers that do not agree")


# --- tags mode ---


class _Pair(NamedTuple):
    start: int  # start of the open tag
    end: int  # end of the close tag, or -1 when never closed
    content: str


def _tag_pairs(body: str, field: str, taken: list[tuple[int, int]]) -> list[_Pair]:
    """Every open/close pair of a field's tag whose open tag lies outside `taken` spans."""
    names = "|".join(re.escape(tag) for tag in field_tags(field))
    opens = re.compile(rf"\[\s*(?:{names})\s*\]", re.IGNORECASE)
    closes = re.compile(rf"\[\s*/\s*(?:{names})\s*\]", re.IGNORECASE)
    pairs: list[_Pair] = []
    pos = 0
    while match := opens.search(body, pos):
        if any(a <= match.start() < b for a, b in taken):
            pos = match.end()
            continue
        close = closes.search(body, match.end())
        if close is None:
            pairs.append(_Pair(match.start(), -1, body[match.end() :]))
            break
        pairs.append(_Pair(match.start(), close.end(), body[match.end() : close.start()]))
        pos = close.end()
    return pairs


def _parse_tags(body: str, model: type[BaseModel]) -> BaseModel | ParseFailure:
    data: dict[str, Any] = {}
    taken: list[tuple[int, int]] = []
    text_fields = [f for f in model.model_fields if f not in _NORMALIZERS]
    decisive_fields = [f for f in model.model_fields if f in _NORMALIZERS]
    for field in text_fields:
        tag = field_tags(field)[0]
        pairs = _tag_pairs(body, field, taken)
        complete = [p for p in pairs if p.end >= 0]
        if not complete:
            why = "is never closed (truncated answer?)" if pairs else "is missing"
            return ParseFailure(MISSING_TAG, f"[{tag}] {why}")
        data[field] = complete[0].content
        taken.append((complete[0].start, complete[0].end))
    for field in decisive_fields:
        tag = field_tags(field)[0]
        pairs = _tag_pairs(body, field, taken)
        if not pairs:
            return ParseFailure(MISSING_TAG, f"[{tag}] is missing")
        if any(p.end < 0 for p in pairs):
            return ParseFailure(MISSING_TAG, f"[{tag}] is never closed (truncated answer?)")
        values = [_NORMALIZERS[field](p.content) for p in pairs]
        if len(pairs) > 1 and (None in values or len(set(values)) > 1):
            raw = [p.content.strip() for p in pairs]
            return ParseFailure(AMBIGUOUS, _clip(f"[{tag}] is given {len(pairs)} times: {raw}"))
        data[field] = pairs[0].content
    return _check_fields(data, model, "tags")


# --- entry point ---


def _resolve_model(name_or_model: str | type[BaseModel]) -> type[BaseModel]:
    if isinstance(name_or_model, str):
        return answer_model(name_or_model)
    if isinstance(name_or_model, type) and issubclass(name_or_model, BaseModel):
        return name_or_model
    raise TypeError(f"expected a template name or a pydantic model class, got {name_or_model!r}")


def parse_answer(text: str | None, name_or_model: str | type[BaseModel], mode: OutputMode) -> BaseModel | ParseFailure:
    """Parses an answer into its model, or explains why it cannot.

    Args:
        text: the answer's text, or None when the request failed.
        name_or_model: a template name (its `templates.answer_model`) or an answer model class.
        mode: the output mode the request was made in.

    Returns:
        The validated answer, or a `ParseFailure` whose reason is in `FAILURE_REASONS`.

    Raises:
        ValueError: unknown output mode or template name (a caller bug, not a model failure).
        TypeError: `name_or_model` is neither a name nor a model class.
    """
    model = _resolve_model(name_or_model)
    if mode not in OUTPUT_MODES:
        raise ValueError(f"unknown output mode {mode!r}; expected one of {OUTPUT_MODES}")
    if text is None or not text.strip():
        return ParseFailure(EMPTY, "no answer text")
    body = _drop_reasoning(text)
    if body is None:
        reason = MISSING_TAG if mode == "tags" else NO_JSON
        return ParseFailure(reason, "the answer ends inside its <think> block (truncated answer?)")
    if not body.strip():
        return ParseFailure(EMPTY, "nothing after the reasoning block")
    return _parse_tags(body, model) if mode == "tags" else _parse_json(body, model)
