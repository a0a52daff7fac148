"""Label orders shared by every output: criteria (aspects) and languages.

The orders are those of Themis-CodePreference, so `datasets` ClassLabel ids agree
with the published dataset and a codepref release is a drop-in replacement.

The one alias table of each label lives here too: `normalize_aspect` and
`normalize_language` turn the spellings of other datasets (CodeRewardBench's
`Functional_Correctness`, `Cpp`, `CSharp`...) into these names, and every reader
of a criterion or language name goes through them.
"""

__all__ = [
    "ASPECTS",
    "MUTATION_OPERATORS",
    "CODE_CRITERIA",
    "CRB_SPELLINGS",
    "EXTENSION_LANGUAGE",
    "LANGUAGES",
    "TARGET_LANGUAGES",
    "label_name",
    "language_for_path",
    "normalize_aspect",
    "normalize_language",
    "pair_language",
]

import posixpath
from collections.abc import Sequence


ASPECTS: tuple[str, ...] = (
    "Readability and Maintainability",
    "Runtime Efficiency",
    "Security Hardness",
    "Functional Correctness",
    "Memory Efficiency",
    "Helpfulness",
    "Harmlessness",
)
"""ClassLabel names of the `aspect` column, in Themis order."""

CODE_CRITERIA: tuple[str, ...] = ASPECTS[:5]
"""The five criteria a code pair is judged on."""

LANGUAGES: tuple[str, ...] = (
    "JavaScript",
    "Python",
    "Ruby",
    "C++",
    "C",
    "Go",
    "Java",
    "C#",
    "NL",
)
"""ClassLabel names of the `language` column, in Themis order."""

TARGET_LANGUAGES: tuple[str, ...] = LANGUAGES[:8]
"""The eight programming languages codepref mines."""

CRB_SPELLINGS: dict[str, str] = {
    **{name: name.replace(" and ", " ").replace(" ", "_") for name in CODE_CRITERIA},
    "C++": "Cpp",
    "C#": "CSharp",
}
"""How CodeRewardBench (and Themis's evaluator output) spells a criterion or language that it
spells otherwise than `ASPECTS` / `LANGUAGES`: `Functional_Correctness`, `Cpp`, `CSharp`."""

MUTATION_OPERATORS: tuple[str, ...] = (
    "relational_flip",
    "arithmetic_swap",
    "boundary_off_by_one",
    "negate_condition",
    "logical_swap",
    "constant_change",
    "return_value_change",
    "delete_statement",
    "swap_call_arguments",
)
"""The AST mutation operators that plant Functional Correctness bugs."""

EXTENSION_LANGUAGE: dict[str, str] = {
    # C: `.h` is C, as in Themis; C++ headers use the C++ extensions below.
    ".c": "C",
    ".h": "C",
    # C++
    ".cpp": "C++",
    ".cc": "C++",
    ".cxx": "C++",
    ".c++": "C++",
    ".hpp": "C++",
    ".hh": "C++",
    ".hxx": "C++",
    ".h++": "C++",
    ".ipp": "C++",
    ".tpp": "C++",
    # C#
    ".cs": "C#",
    # Go
    ".go": "Go",
    # Java
    ".java": "Java",
    # JavaScript
    ".js": "JavaScript",
    ".jsx": "JavaScript",
    ".mjs": "JavaScript",
    ".cjs": "JavaScript",
    # Python
    ".py": "Python",
    ".pyw": "Python",
    # Ruby
    ".rb": "Ruby",
    ".rake": "Ruby",
    ".gemspec": "Ruby",
}
"""File extension (lowercase, with the dot) to target language."""


def label_name(names: Sequence[str], value: object) -> str | None:
    """Decodes a ClassLabel id: the name of `value` when it is an id of `names`, else None.

    An id is an `int` in `[0, len(names))`; a bool is not one (JSON's `true` is no
    label), nor is a name, a float or null. Every reader of label ids decodes them
    here and decides for itself what to make of a value that is not an id.
    """
    is_id = isinstance(value, int) and not isinstance(value, bool)
    return names[value] if is_id and 0 <= value < len(names) else None


def language_for_path(path: str) -> str | None:
    """Returns the target language of a file path, or None when it is not one.

    The match is on the lowercased extension, so `Foo.CPP` is C++; `Rakefile`
    and other extension-less names are not matched.
    """
    _, ext = posixpath.splitext(path.lower())
    return EXTENSION_LANGUAGE.get(ext)


_ALIASES_OF: dict[str, tuple[str, ...]] = {
    "C++": ("c++", "cpp", "cxx"),
    "C#": ("c#", "csharp", "cs", "c-sharp"),
    "Go": ("golang",),
    "JavaScript": ("js", "node", "nodejs"),
    "Python": ("py", "python3"),
    "Ruby": ("rb",),
}
_LANGUAGE_ALIASES: dict[str, str] = {
    **{name.lower(): name for name in TARGET_LANGUAGES},
    **{alias: language for language, aliases in _ALIASES_OF.items() for alias in aliases},
}


def normalize_language(name: str | None) -> str | None:
    """Returns the target language a name or alias means (`cpp`, `CSharp`, `py`...), else None."""
    return _LANGUAGE_ALIASES.get((name or "").strip().lower())


def pair_language(name: str | None) -> str | None:
    """Returns a pair's language: a target language (or alias) or `NL` for prose, else None."""
    return "NL" if (name or "").strip().upper() == "NL" else normalize_language(name)


_ASPECT_ALIASES_OF: dict[str, tuple[str, ...]] = {
    "Runtime Efficiency": ("Execution Efficiency",),
}
"""Other names of a criterion; spellings that differ only as `_aspect_key` forgives need no entry."""


def _aspect_key(name: str) -> str:
    """A criterion name with case, `_`, `-`, runs of spaces and the words `and` / `&` forgiven."""
    words = name.lower().replace("&", " ").replace("_", " ").replace("-", " ").split()
    return " ".join(word for word in words if word != "and")


_ASPECT_ALIASES: dict[str, str] = {
    **{_aspect_key(name): name for name in ASPECTS},
    **{_aspect_key(alias): aspect for aspect, aliases in _ASPECT_ALIASES_OF.items() for alias in aliases},
}


def normalize_aspect(name: object) -> str | None:
    """Returns the `ASPECTS` name a criterion name or alias means, else None.

    The match ignores case, treats `_`, `-` and runs of spaces alike and drops the
    word `and` (or `&`), so `Readability_Maintainability`,
    `readability and maintainability` and `Readability & Maintainability` all mean
    `Readability and Maintainability`; `Execution Efficiency` means
    `Runtime Efficiency`. Anything that is not a string (a ClassLabel id, None) is
    None: decode ids with `label_name` first.
    """
    return _ASPECT_ALIASES.get(_aspect_key(name)) if isinstance(name, str) else None
