"""The card's Markdown sections, each a pure `render_*` function of the run's data.

Every number in the card comes from `ReleaseStats` (the shards) or the manifest;
nothing here holds a count. Each function returns the body of one section of
`data_cards/template.md` (the heading is in the template), and takes the paths of
its figures relative to the README, so the card links them as `images/*.png`.

`scrub_config` is how the run's configuration reaches the card without what must
not be published: LLM endpoints' `base_url`, the names of API-key environment
variables, and anything that looks like a credential.
"""

__all__ = [
    "REDACTED",
    "THEMIS_ARXIV",
    "md_table",
    "render_changes",
    "render_citation",
    "render_composition",
    "render_configuration",
    "render_funnel",
    "render_judge",
    "render_lengths",
    "render_licences",
    "render_summary",
    "scrub_config",
]

import collections
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from data_cards.stats import Histogram, JudgeStats, ReleaseStats
from schemas.pair_columns import PAIR_COLUMNS
from transforms.filters.length import CHARS_PER_TOKEN
from transforms.manifest import check_conservation


THEMIS_ARXIV = "2605.00754"
REDACTED = "[redacted]"
_SECRET_KEYS = frozenset({"base_url", "api_base", "api_key", "api_key_env", "headers", "default_headers"})
_SECRET_KEY_PATTERN = re.compile(r"(?i)(api[_-]?key|password|passwd|secret[_-]?key|access[_-]?token|auth[_-]?token)")
_SECRET_VALUE_PATTERN = re.compile(r"^(sk|hf|ghp|gho|github_pat|xox[abp])[-_][A-Za-z0-9_-]{16,}$")
_URL_USERINFO = re.compile(r"^([a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {None: "–", True: "yes", False: "no"}[value]
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table; ints get thousands separators, `|` is escaped."""
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _by(composition: Mapping[tuple[str, str, str, str], int], *fields: int) -> dict[tuple[str, ...], int]:
    """Sums composition rows by the given key positions (0 split, 1 source, 2 criterion, 3 language)."""
    totals: collections.Counter[tuple[str, ...]] = collections.Counter()
    for key, rows in composition.items():
        totals[tuple(key[f] for f in fields)] += rows
    return dict(sorted(totals.items()))


def render_summary(stats: ReleaseStats, manifest: Mapping[str, Any], repo_id: str, version: str) -> str:
    """What the dataset is, its size and where it came from."""
    sources = sorted(_by(stats.composition, 1))
    criteria = sorted(_by(stats.composition, 2))
    languages = sorted(_by(stats.composition, 3))
    splits = ", ".join(f"{s.name} {s.rows:,}" for s in stats.splits)
    return (
        f"`{repo_id}` version {version} holds **{stats.rows:,}** code preference pairs ({splits}): "
        f"for a prompt (`input`), a `chosen` and a `rejected` response that differ on one criterion "
        f"(`aspect`), in one `language`. It comes from {len(sources)} sources "
        f"({', '.join(f'`{s[0]}`' for s in sources)}), covers {len(criteria)} criteria and "
        f"{len(languages)} languages, and was built by [codepref](#citation) "
        f"(config id `{manifest['config_id']}`).\n\n" + _columns_sentence()
    )


def _and_list(items: Sequence[str]) -> str:
    """`a`, `b` and `c`."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _columns_sentence() -> str:
    """The release's columns as `schemas.pair_columns.PAIR_COLUMNS` declares them: Themis's, then provenance."""
    themis = [c.summary_words for c in PAIR_COLUMNS if c.themis]
    provenance = [words for words, _ in itertools.groupby(c.summary_words for c in PAIR_COLUMNS if not c.themis)]
    return (
        f"The columns {_and_list(themis)} are those of Themis-CodePreference, with the same label ids, so this "
        f"release can replace it; provenance columns follow ({_and_list(provenance)})."
    )


def render_composition(stats: ReleaseStats, criteria: Sequence[str], languages: Sequence[str], heatmap: str) -> str:
    """Rows per source and split, the criterion × language grid, and the full source × criterion × language table."""
    split_names = [s.name for s in stats.splits]
    per_source = _by(stats.composition, 1, 0)
    sources = sorted({source for source, _ in per_source})
    source_rows = [
        [
            source,
            *(per_source.get((source, split), 0) for split in split_names),
            sum(per_source.get((source, split), 0) for split in split_names),
        ]
        for source in sources
    ]
    grid = _by(stats.composition, 2, 3)
    used = [language for language in languages if any(grid.get((c, language)) for c in criteria)]
    grid_rows = [
        [
            criterion,
            *(grid.get((criterion, language), 0) for language in used),
            sum(grid.get((criterion, language), 0) for language in used),
        ]
        for criterion in criteria
        if any(grid.get((criterion, language)) for language in used)
    ]
    cells = _by(stats.composition, 1, 2, 3, 0)
    keys = sorted({key[:3] for key in cells}, key=lambda k: (k[0], _index(criteria, k[1]), _index(languages, k[2])))
    full_rows = [[*key, *(cells.get((*key, split), 0) for split in split_names)] for key in keys]
    return "\n\n".join(
        [
            "Pairs per source and split:",
            md_table(["source", *split_names, "total"], source_rows),
            "Pairs per criterion (`aspect`) and language, all splits and sources:",
            md_table(["criterion", *used, "total"], grid_rows),
            f"![Pairs per criterion and language]({heatmap})",
            "<details>\n<summary>Pairs per source, criterion and language</summary>\n\n"
            + md_table(["source", "criterion", "language", *split_names], full_rows)
            + "\n\n</details>",
        ]
    )


def _index(names: Sequence[str], name: str) -> int:
    return names.index(name) if name in names else len(names)


def _reasons(rejected: Mapping[str, int]) -> str:
    return ", ".join(f"{reason} {n:,}" for reason, n in sorted(rejected.items(), key=lambda kv: (-kv[1], kv[0])))


def render_funnel(manifest: Mapping[str, Any], funnel: str) -> str:
    """Every stage's in / out / rejected by reason, the conservation check, and LLM usage."""
    stages = manifest["stages"]
    rows = [[s["name"], s["in"], s["out"], sum(s["rejected"].values()), _reasons(s["rejected"])] for s in stages]
    problems = check_conservation(manifest)
    balance = (
        "Every stage balances: rows in = rows kept + rows rejected."
        if not problems
        else "**Stages that do not balance** (rows in ≠ kept + rejected): " + "; ".join(problems) + "."
    )
    rejects = manifest.get("rejects", {})
    parts = [
        "Stages in pipeline order. Stages on different branches (commits, instruction sets, external "
        "datasets) each count their own rows; the branches merge before the final filters. Rejected rows "
        "are kept, with their reason, under `rejects/` in the run folder "
        f"({sum(r['rows'] for r in rejects.values()):,} rows in {len(rejects)} stage folders); "
        "they are not part of this dataset.",
        md_table(["stage", "in", "kept", "rejected", "rejected by reason"], rows),
        balance,
        f"![Filtering funnel]({funnel})",
    ]
    llm = manifest.get("llm")
    if llm:
        llm_rows = [
            [
                stage,
                s["requests_sent"],
                s["cache_hits"],
                s["retries"],
                sum(s["errors"].values()),
                s["prompt_tokens"],
                s["completion_tokens"],
                f"{s['cost_usd']:.2f}",
            ]
            for stage, s in llm.items()
        ]
        header = [
            "LLM stage",
            "requests",
            "cache hits",
            "retries",
            "errors",
            "prompt tokens",
            "completion tokens",
            "cost (USD)",
        ]
        parts += ["LLM calls (a cached answer is not sent again):", md_table(header, llm_rows)]
    return "\n\n".join(parts)


def render_judge(judge: JudgeStats, votes: str | None) -> str:
    """The pairwise judge's agreement with the released labels, or why there is none."""
    if not judge.pairs:
        return "No pair in this release went through the pairwise LLM judge (its `judge_*` columns are null)."
    totals = judge.totals
    agreement = judge.agreement
    rows = [
        ["pairs judged", judge.pairs],
        *([f"votes: {kind}", n] for kind, n in totals.items()),
        ["agreement (matches / non-error votes)", agreement],
        ["A-position rate (0.5 = no position bias)", judge.a_rate_mean],
        ["position consistency (same side in both orders)", judge.position_consistency_mean],
    ]
    kinds = list(judge.distribution)
    most = max((k for counts in judge.distribution.values() for k in counts), default=0)
    dist_rows = [[k, *(judge.distribution[kind].get(k, 0) for kind in kinds)] for k in range(most + 1)]
    return "\n\n".join(
        [
            "Each judged pair got several pairwise votes with the A/B order alternating: a *match* picks the "
            "released `chosen`, a *contradiction* the `rejected`, a *tie* neither, an *error* did not parse. "
            "Only pairs that passed the judge's keep rule are released.",
            md_table(["statistic", "value"], rows),
            "Pairs by number of votes of each kind:",
            md_table(["votes in a pair", *kinds], dist_rows),
            *([f"![Judge votes]({votes})"] if votes else []),
        ]
    )


def render_lengths(lengths: Mapping[str, Histogram], histogram: str) -> str:
    """Token-length summary and bin counts of prompts, chosen and rejected responses."""
    names = list(lengths)
    summary = [
        [name, h.n, None if h.mean is None else f"{h.mean:.1f}", h.minimum, h.maximum] for name, h in lengths.items()
    ]
    labels = lengths[names[0]].labels()
    bins = [[label, *(lengths[name].counts[i] for name in names)] for i, label in enumerate(labels)]
    return "\n\n".join(
        [
            f"Lengths are estimated tokens, as the length filter counts them without a tokenizer: one token "
            f"per {CHARS_PER_TOKEN} ASCII characters plus one per other character "
            "(`transforms.filters.length.estimate_tokens`).",
            md_table(["text", "pairs", "mean", "min", "max"], summary),
            md_table(["estimated tokens", *names], bins),
            f"![Token lengths]({histogram})",
        ]
    )


def render_licences(licences: Mapping[tuple[str, str | None], int], card_license: str) -> str:
    """Each source's licences with their rows, and how the card's `license` was chosen."""
    rows = [[source, licence or "not recorded", n] for (source, licence), n in licences.items()]
    if card_license != "other":
        choice = f"Every row carries the licence `{card_license}`, so that is the card's `license`."
    else:
        choice = (
            "The rows do not share one licence, so the card's `license` is `other`: each row's `license` "
            "column holds the licence of the code or dataset it came from, and using a row means following "
            "that licence. *Not recorded* means the source's configuration gave no licence: check the "
            "source before use."
        )
    return "\n\n".join([choice, md_table(["source", "licence", "pairs"], rows)])


def _source_rows(composition: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    totals: collections.Counter[str] = collections.Counter()
    for cell in composition:
        totals[cell["source"]] += cell["rows"]
    return dict(totals)


def _delta(before: int | None, after: int | None) -> str:
    if before is None:
        return "new"
    if after is None:
        return "removed"
    return f"{after - before:+,}"


def render_changes(
    stats: ReleaseStats,
    manifest: Mapping[str, Any],
    version: str,
    previous_manifest: Mapping[str, Any] | None,
    previous_version: str | None,
) -> str:
    """This version, and its row counts per split and per source against the previous release."""
    if previous_manifest is None:
        return f"This is version {version}, the first version of this dataset."
    before = previous_version or "the previous version"
    parts = [f"Version {version}, compared with {before}."]
    if previous_manifest.get("config_id") != manifest["config_id"]:
        parts.append(f"Config id: `{previous_manifest.get('config_id')}` → `{manifest['config_id']}`.")
    old = {split: out["rows"] for split, out in previous_manifest.get("outputs", {}).items()}
    new = {s.name: s.rows for s in stats.splits}
    split_rows = [
        [split, old.get(split), new.get(split), _delta(old.get(split), new.get(split))]
        for split in [*new, *(s for s in old if s not in new)]
    ]
    split_rows.append(["total", sum(old.values()), sum(new.values()), _delta(sum(old.values()), sum(new.values()))])
    parts.append(md_table(["split", before, version, "change"], split_rows))
    if "composition" in previous_manifest:
        old_sources = _source_rows(previous_manifest["composition"])
        new_sources = {key[0]: n for key, n in _by(stats.composition, 1).items()}
        names = sorted(set(old_sources) | set(new_sources))
        rows = [
            [s, old_sources.get(s), new_sources.get(s), _delta(old_sources.get(s), new_sources.get(s))] for s in names
        ]
        parts.append(md_table(["source", before, version, "change"], rows))
    else:
        parts.append("The previous manifest has no composition, so rows per source cannot be compared.")
    return "\n\n".join(parts)


def scrub_config(value: Any) -> Any:
    """Returns the config without endpoints' URLs, API-key variable names or credential-like values.

    Keys in `_SECRET_KEYS` or matching `_SECRET_KEY_PATTERN` are dropped (not
    blanked: the card should not even say which variable held a key); strings that
    look like tokens become `REDACTED`; URLs lose any `user:password@` part.
    """
    if isinstance(value, Mapping):
        return {
            k: scrub_config(v)
            for k, v in value.items()
            if k not in _SECRET_KEYS and not _SECRET_KEY_PATTERN.search(str(k))
        }
    if isinstance(value, list | tuple):
        return [scrub_config(v) for v in value]
    if isinstance(value, str):
        if _SECRET_VALUE_PATTERN.match(value):
            return REDACTED
        return _URL_USERINFO.sub(r"\1", value)
    return value


def render_configuration(manifest: Mapping[str, Any]) -> str:
    """The run's config id and its configuration (scrubbed), folded."""
    config = json.dumps(scrub_config(manifest.get("config", {})), indent=2, ensure_ascii=False)
    return (
        f"Config id `{manifest['config_id']}`: a hash of the run's configuration, shown here without the LLM "
        "endpoints' URLs and API-key settings.\n\n<details>\n<summary>Configuration</summary>\n\n"
        f"```json\n{config}\n```\n\n</details>"
    )


def render_citation(repo_id: str, version: str) -> str:
    """BibTeX for this release (built with codepref) and the Themis paper."""
    key = re.sub(r"[^A-Za-z0-9]+", "_", repo_id).strip("_").lower()
    return (
        "If you use this dataset, cite it and the Themis paper whose data recipe codepref follows:\n\n"
        "```bibtex\n"
        f"@misc{{{key},\n"
        f"  title        = {{{{{repo_id}}}: code preference pairs built with codepref}},\n"
        f"  version      = {{{version}}},\n"
        f"  howpublished = {{\\url{{https://huggingface.co/datasets/{repo_id}}}}},\n"
        "  note         = {Built with codepref, Apache Beam pipelines for code preference datasets}\n"
        "}\n\n"
        "@misc{themis,\n"
        "  title         = {Themis: Training Robust Multilingual Code Reward Models for Flexible Multi-Criteria "
        "Scoring},\n"
        f"  eprint        = {{{THEMIS_ARXIV}}},\n"
        "  archivePrefix = {arXiv},\n"
        f"  url           = {{https://arxiv.org/abs/{THEMIS_ARXIV}}}\n"
        "}\n```"
    )
