"""Versioned Jinja2 prompt templates, rendered to (role, content) chat messages.

Each template is two files in `transforms/llm/prompts/`: `<name>.system.j2` (the
system message) and `<name>.user.j2` (the user message). Files whose name starts
with `_` are shared partials: `_format.j2` (the answer layout for each output
mode) and `_styles.j2` (what each problem style reads like).

Templates and the variables they take (all required; `output_mode` is one of
`schemas.llm.OutputMode`):

- `commit_review`: criterion, language, old_code, new_code, message, diff.
- `instruction`: language, old_code, new_code, style.
- `problem_recovery`: language, solution_1, solution_2, style (the caller picks
  which solution is shown first).
- `bug_introduction`: language, problem, solution.
- `pairwise_judge`: criterion, language, prompt, completion_a, completion_b.

`criterion` is one of `schemas.labels.CODE_CRITERIA`, `style` one of
`PROBLEM_STYLES`, and `language` a name of `schemas.labels.LANGUAGES` (CRB
spellings such as `Cpp` and `CSharp`, and any case, are accepted and mapped to
the canonical name). Rendering adds `answer_schema`, the answer model's JSON
Schema, shown in `json_object_schema` mode.

Versions: `TEMPLATE_VERSIONS[name]` is `"<declared>-<fingerprint>"`, where the
fingerprint is the first 8 hex digits of a sha256 over everything that shapes
the rendered text: the template's two files and every partial they import or
include (found by walking the Jinja2 syntax tree), the values of the data
globals they reference (`judge_points`, `fence_tags`), and the source of the
custom filters they call. An edited template therefore never reuses cache
entries made with the old wording. Bump the declared number when Python-side
context preparation in this module changes (for example `_prepare_context`).
"""

__all__ = [
    "FENCE_TAGS",
    "JUDGE_POINTS",
    "OUTPUT_MODES",
    "PROBLEM_STYLES",
    "TEMPLATE_NAMES",
    "TEMPLATE_VARIABLES",
    "TEMPLATE_VERSIONS",
    "answer_model",
    "canonical_language",
    "code_block",
    "problem_style",
    "render_messages",
    "response_schema",
    "template_version",
]

import functools
import hashlib
import inspect
import json
import re
from collections.abc import Callable
from typing import Any, get_args

import jinja2
import jinja2.meta
import jinja2.nodes
from pydantic import BaseModel

from schemas.labels import CODE_CRITERIA, LANGUAGES
from schemas.llm import BugAnswer, InstructionAnswer, JudgeAnswer, OutputMode, ProblemAnswer, RatingAnswer


_DECLARED_VERSIONS: dict[str, str] = {
    "commit_review": "1",
    "instruction": "1",
    "problem_recovery": "1",
    "bug_introduction": "1",
    "pairwise_judge": "1",
}

TEMPLATE_NAMES: tuple[str, ...] = tuple(_DECLARED_VERSIONS)
"""Every template name, in pipeline order."""

TEMPLATE_VARIABLES: dict[str, tuple[str, ...]] = {
    "commit_review": ("criterion", "language", "old_code", "new_code", "message", "diff", "output_mode"),
    "instruction": ("language", "old_code", "new_code", "style", "output_mode"),
    "problem_recovery": ("language", "solution_1", "solution_2", "style", "output_mode"),
    "bug_introduction": ("language", "problem", "solution", "output_mode"),
    "pairwise_judge": ("criterion", "language", "prompt", "completion_a", "completion_b", "output_mode"),
}
"""The variables each template takes; all are required."""

_ANSWER_MODELS: dict[str, type[BaseModel]] = {
    "commit_review": RatingAnswer,
    "instruction": InstructionAnswer,
    "problem_recovery": ProblemAnswer,
    "bug_introduction": BugAnswer,
    "pairwise_judge": JudgeAnswer,
}

OUTPUT_MODES: tuple[str, ...] = get_args(OutputMode)

PROBLEM_STYLES: tuple[str, ...] = (
    "graduate course assignment",
    "Quora question",
    "Stack Overflow question",
    "Google search query",
    "programming contest problem",
)
"""The five styles an instruction or recovered problem is written in."""

JUDGE_POINTS: dict[str, tuple[str, ...]] = {
    "Readability and Maintainability": (
        "How easy the code is to follow: its layout, its control flow and how it is organised.",
        "Whether the names of variables, functions and types say what they hold or do.",
        "Whether comments and documentation explain the intent where the code alone does not.",
        "How well the code is split into focused, reusable units without needless duplication.",
        "How closely the code follows the conventions and idioms of its language.",
    ),
    "Runtime Efficiency": (
        "The time complexity of the algorithms used.",
        "Whether the data structures used make the frequent operations fast.",
        "How the running time holds up as the input or the load grows.",
        "Whether redundant work is avoided, for example repeated computation, needless copies or work "
        "that could be hoisted out of loops, and whether caching, batching or concurrency is used where it fits.",
        "How fast the code would run in realistic use.",
    ),
    "Security Hardness": (
        "Whether untrusted input is validated, sanitised or escaped before it is used.",
        "Whether safe APIs and secure coding practices are preferred over risky ones.",
        "How secrets, credentials and personal data are stored, logged and transmitted.",
        "Whether protective mechanisms such as authentication, authorisation and encryption are used correctly.",
        "How well the code resists common attacks such as injection, buffer overflows, path traversal, "
        "race conditions and denial of service.",
    ),
    "Functional Correctness": (
        "Whether the code does what the prompt asks for.",
        "How edge cases, invalid input and error conditions are handled.",
        "Whether the results the code produces are accurate.",
        "Whether every part of the requested functionality is implemented.",
        "Whether the constraints, interfaces and formats stated in the prompt are respected.",
    ),
    "Memory Efficiency": (
        "How much memory the code needs while it runs, at its peak and in steady state.",
        "The memory overhead of the data structures used.",
        "Whether memory or other resources can leak, or are held longer than necessary.",
        "Whether techniques that shrink memory use are applied, such as streaming, in-place updates, "
        "buffer reuse or lazy evaluation.",
        "How well the code copes when memory is scarce or the input is large.",
    ),
}
"""Criterion → the points a judge compares two completions on (this project's wording)."""

FENCE_TAGS: dict[str, str] = {
    "C": "c",
    "C#": "csharp",
    "C++": "cpp",
    "Go": "go",
    "Java": "java",
    "JavaScript": "javascript",
    "Python": "python",
    "Ruby": "ruby",
    "NL": "text",
}
"""Canonical language name → the info string of its Markdown code fences."""

_LANGUAGE_ALIASES: dict[str, str] = {
    **{name.lower(): name for name in LANGUAGES},
    "cpp": "C++",
    "csharp": "C#",
}


def canonical_language(language: str) -> str:
    """Returns the canonical name (as in `schemas.labels.LANGUAGES`) of a language.

    Args:
        language: a canonical name in any case, or a CRB spelling (`Cpp`, `CSharp`).

    Raises:
        ValueError: the language is not one codepref knows.
    """
    try:
        return _LANGUAGE_ALIASES[language.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown language {language!r}; expected one of {LANGUAGES}") from None


def code_block(text: str, tag: str = "") -> str:
    """Wraps text in a Markdown code fence longer than any backtick run inside it.

    A Jinja2 filter: `{{ code | code_block("python") }}`. The fence grows with the
    content, so code that itself contains triple backticks cannot close it early.

    Args:
        text: the code or text to fence.
        tag: the fence's info string, e.g. `cpp`.

    Raises:
        jinja2.UndefinedError: `text` is an undefined template variable.
        TypeError: `text` is not a string.
    """
    if isinstance(text, jinja2.Undefined):
        str(text)  # StrictUndefined raises here, naming the missing variable.
    if not isinstance(text, str):
        raise TypeError(f"code_block expects a string, got {type(text).__name__}")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") else text + "\n"
    return f"{fence}{tag}\n{body}{fence}"


_FILTERS: dict[str, Callable[..., str]] = {"code_block": code_block}
_GLOBALS: dict[str, Any] = {"judge_points": JUDGE_POINTS, "fence_tags": FENCE_TAGS}


def _make_environment(loader: jinja2.BaseLoader | None = None) -> jinja2.Environment:
    """Builds the Jinja2 environment; tests pass their own loader."""
    env = jinja2.Environment(
        loader=loader or jinja2.PackageLoader("transforms.llm", "prompts"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(_FILTERS)
    env.globals.update(_GLOBALS)
    return env


def _files(name: str) -> tuple[str, str]:
    return f"{name}.system.j2", f"{name}.user.j2"


def _fingerprint(env: jinja2.Environment, name: str) -> str:
    """First 8 hex digits of the sha256 of everything that shapes a template's text."""
    sources: dict[str, str] = {}
    pending = list(_files(name))
    referenced_names: set[str] = set()
    filter_names: set[str] = set()
    while pending:
        file = pending.pop()
        if file in sources:
            continue
        source, _, _ = env.loader.get_source(env, file)
        sources[file] = source
        tree = env.parse(source)
        for ref in jinja2.meta.find_referenced_templates(tree):
            if ref is None:
                raise ValueError(f"{file}: dynamic import/include defeats template versioning")
            pending.append(ref)
        referenced_names |= {node.name for node in tree.find_all(jinja2.nodes.Name) if node.ctx == "load"}
        filter_names |= {node.name for node in tree.find_all(jinja2.nodes.Filter)}
    material = {
        "files": sources,
        "globals": {key: env.globals[key] for key in sorted(referenced_names & set(_GLOBALS))},
        "filters": {key: inspect.getsource(_FILTERS[key]) for key in sorted(filter_names & set(_FILTERS))},
    }
    blob = json.dumps(material, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:8]


_ENV = _make_environment()

TEMPLATE_VERSIONS: dict[str, str] = {
    name: f"{declared}-{_fingerprint(_ENV, name)}" for name, declared in _DECLARED_VERSIONS.items()
}
"""Template name → version: the declared number plus the fingerprint of its text."""


def _check_name(name: str) -> None:
    if name not in _DECLARED_VERSIONS:
        raise ValueError(f"unknown template {name!r}; expected one of {TEMPLATE_NAMES}")


def template_version(name: str) -> str:
    """Returns the version of a template, part of every request's cache key.

    Raises:
        ValueError: unknown template name.
    """
    _check_name(name)
    return TEMPLATE_VERSIONS[name]


def answer_model(name: str) -> type[BaseModel]:
    """Returns the pydantic model a template's answer is parsed into.

    Raises:
        ValueError: unknown template name.
    """
    _check_name(name)
    return _ANSWER_MODELS[name]


def response_schema(name: str) -> str:
    """Returns the answer model's JSON Schema as canonical JSON text (sorted keys, compact).

    Raises:
        ValueError: unknown template name.
    """
    _check_name(name)
    return _response_schema(name)


@functools.cache
def _response_schema(name: str) -> str:
    """`response_schema`, built once per template: pydantic's schema generation costs more than the request."""
    schema = answer_model(name).model_json_schema()
    return json.dumps(schema, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def problem_style(content_hash: str) -> str:
    """Picks a problem style deterministically from a hex content hash.

    Args:
        content_hash: a hex digest; its first 8 digits select the style.

    Returns:
        `PROBLEM_STYLES[int(content_hash[:8], 16) % 5]`.

    Raises:
        ValueError: fewer than 8 leading hex digits.
    """
    head = content_hash[:8]
    if len(head) < 8 or not re.fullmatch(r"[0-9a-fA-F]{8}", head):
        raise ValueError(f"expected a hex hash of at least 8 digits, got {content_hash!r}")
    return PROBLEM_STYLES[int(head, 16) % len(PROBLEM_STYLES)]


def _prepare_context(name: str, context: dict[str, Any]) -> dict[str, Any]:
    """Checks the caller's variables and adds the derived ones."""
    unexpected = sorted(set(context) - set(TEMPLATE_VARIABLES[name]))
    if unexpected:
        raise TypeError(f"template {name!r} does not take {unexpected}; it takes {TEMPLATE_VARIABLES[name]}")
    prepared = dict(context)
    if "output_mode" in prepared and prepared["output_mode"] not in OUTPUT_MODES:
        raise ValueError(f"unknown output_mode {prepared['output_mode']!r}; expected one of {OUTPUT_MODES}")
    if "criterion" in prepared and prepared["criterion"] not in CODE_CRITERIA:
        raise ValueError(f"unknown criterion {prepared['criterion']!r}; expected one of {CODE_CRITERIA}")
    if "style" in prepared and prepared["style"] not in PROBLEM_STYLES:
        raise ValueError(f"unknown style {prepared['style']!r}; expected one of {PROBLEM_STYLES}")
    if "language" in prepared:
        prepared["language"] = canonical_language(prepared["language"])
    prepared["answer_schema"] = response_schema(name)
    return prepared


def _render(env: jinja2.Environment, name: str, context: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    system_file, user_file = _files(name)
    return (
        ("system", env.get_template(system_file).render(context).strip()),
        ("user", env.get_template(user_file).render(context).strip()),
    )


def render_messages(name: str, **context: Any) -> tuple[tuple[str, str], ...]:
    """Renders a template into chat messages; the same input always gives the same text.

    Args:
        name: one of `TEMPLATE_NAMES`.
        **context: the template's variables, listed in `TEMPLATE_VARIABLES[name]`.

    Returns:
        `(("system", text), ("user", text))`.

    Raises:
        ValueError: unknown template, output mode, criterion, style or language.
        TypeError: a variable the template does not take.
        jinja2.UndefinedError: a required variable is missing.
    """
    _check_name(name)
    return _render(_ENV, name, _prepare_context(name, context))
