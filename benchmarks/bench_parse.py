"""Benchmark tree-sitter parsing and function extraction: files per second per language.

Builds ~2 KB sources from the demo samples (`pipelines/demo/commits/*/after.*`):
each sample's lines are repeated up to the target size and cut at the last line
boundary under it, so every language gets five realistic files of about the
same size (a cut may fall inside a class, as in truncated real inputs; Python
files are cut where CPython still compiles them, for the baseline). Then, single-threaded, per language:

- `parse`: `get_parser(language).parse(bytes)` alone (the C parser);
- `parse_code`: the parse plus `tree_stats` (the walk the syntax filter does);
- `extract_functions`: parse, query and naming of every function.

Baseline in the same run: CPython's own `ast.parse` on the Python files, the
reference point for "how fast can a parser be from Python". Results replace the
`parse` section of BENCHMARKS.md.

    python benchmarks/bench_parse.py [--bytes 2048] [--seconds 1.0] [--write BENCHMARKS.md]
"""

import argparse
import ast
import importlib.metadata
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.report import replace_section  # noqa: E402
from pipelines.demo import load_samples  # noqa: E402
from schemas.labels import TARGET_LANGUAGES, language_for_path  # noqa: E402
from transforms.code.functions import extract_functions  # noqa: E402
from transforms.code.parsing import get_parser, parse_code  # noqa: E402


SECTION = "## parse: tree-sitter parses per second"


def sized_source(code: str, target: int, python: bool = False) -> str:
    """Repeats `code`'s lines up to `target` UTF-8 bytes, cut at the last line boundary under it.

    With `python`, the cut is the last boundary CPython accepts, so the `ast.parse`
    baseline can run on the very same files.
    """
    lines = code.splitlines(keepends=True)
    out: list[str] = []
    size = 0
    while size + len(lines[len(out) % len(lines)].encode()) <= target or not out:
        out.append(lines[len(out) % len(lines)])
        size += len(out[-1].encode())
    for end in range(len(out), 0, -1):
        if not python or compiles("".join(out[:end])):
            return "".join(out[:end])
    raise ValueError("no prefix of the sample compiles")


def compiles(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def build_sources(target: int) -> dict[str, list[str]]:
    sources: dict[str, list[str]] = {language: [] for language in TARGET_LANGUAGES}
    for sample in load_samples():
        language = language_for_path(sample.path)
        sources[language].append(sized_source(sample.after, target, python=language == "Python"))
    return sources


def rate(fn: Callable[[Any], object], files: list[Any], seconds: float) -> float:
    """Calls `fn` on the files round-robin for about `seconds`; returns calls per second."""
    for f in files:  # warm caches (parsers, queries) outside the timing
        fn(f)
    calls = 0
    start = time.perf_counter()
    while True:
        for f in files:
            fn(f)
        calls += len(files)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls / elapsed


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"tree-sitter {importlib.metadata.version('tree-sitter')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bytes", type=int, default=2048, help="target size of each source file")
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    parser.add_argument("--write", default="BENCHMARKS.md", help="Markdown file to update ('' to skip)")
    args = parser.parse_args()
    sources = build_sources(args.bytes)
    rows = []
    for language, files in sources.items():
        data = [f.encode() for f in files]
        ts = get_parser(language)
        mean_bytes = sum(map(len, data)) / len(data)
        parse_rate = rate(ts.parse, data, args.seconds)
        code_rate = rate(lambda f, lang=language: parse_code(f, lang), files, args.seconds)
        extract_rate = rate(lambda f, lang=language: extract_functions(f, lang), files, args.seconds)
        functions = sum(len(extract_functions(f, language)) for f in files) / len(files)
        rows.append(
            (
                language,
                f"{len(files)}",
                f"{mean_bytes:,.0f}",
                f"{parse_rate:,.0f}",
                f"{parse_rate * mean_bytes / 1e6:.1f}",
                f"{code_rate:,.0f}",
                f"{extract_rate:,.0f}",
                f"{functions:.1f}",
            )
        )
        if language == "Python":
            base_rate = rate(ast.parse, files, args.seconds)
            baseline = ("Python, baseline: CPython `ast.parse`", f"{len(files)}", f"{mean_bytes:,.0f}")
            baseline += (f"{base_rate:,.0f}", f"{base_rate * mean_bytes / 1e6:.1f}", "-", "-", "-")
    lines = [
        SECTION,
        "",
        f"Machine: {machine()}. Sources: the 5 demo samples per language (`after.*`), each repeated and cut at "
        f"the last line boundary under {args.bytes:,} bytes (Python: the last one CPython compiles), by "
        f"`benchmarks/bench_parse.py`. One thread; each rate is files per second over ~{args.seconds:g} s after "
        "a warm-up. Baseline and tree-sitter measured in the same run.",
        "",
        "| language | files | mean bytes | parse/s | MB/s | parse_code/s | extract_functions/s | functions/file |",
        "|---|---|---|---|---|---|---|---|",
        *[f"| {' | '.join(r)} |" for r in [*rows, baseline]],
        "",
        "`parse` is the tree-sitter C parser alone; `parse_code` adds the `tree_stats` walk (error nodes, depth) "
        "the syntax filter needs; `extract_functions` parses, queries and names every function (what "
        "`changed_functions` does per side).",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    if args.write:
        replace_section(args.write, SECTION.split(":")[0] + ":", section)


if __name__ == "__main__":
    main()
