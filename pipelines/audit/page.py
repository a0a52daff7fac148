"""Render one audit pair as a self-contained HTML page (pure functions, no I/O).

The page shows what a person needs to judge the label: the criterion, language
and source; the prompt; chosen and rejected side by side, highlighted by Pygments
on the server (the machine may be offline, so no CDN and no client-side
highlighter); a unified diff from rejected to chosen; and the judge's votes with
their rationales, read from `label_details`. Everything from the release is
untrusted text and goes through `html.escape` or Pygments' escaping.

The diff runs rejected → chosen (`---` rejected, `+++` chosen) because for commit
pairs rejected is the old file and chosen the fix, so `+` lines are what the label
claims is better.
"""

__all__ = ["JudgeVote", "judge_votes", "render_page", "unified_diff"]

import difflib
import functools
import html
import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from pipelines.audit.assets import PAGE_CSS, PAGE_JS, SHORTCUTS
from pipelines.audit.records import AuditPair
from pipelines.audit.store import VERDICTS, Verdict


_LEXERS = {
    "JavaScript": "javascript",
    "Python": "python",
    "Ruby": "ruby",
    "C++": "cpp",
    "C": "c",
    "Go": "go",
    "Java": "java",
    "C#": "csharp",
}
"""Pygments lexer alias per `schemas.labels.LANGUAGES` name; others are plain text."""


class JudgeVote(NamedTuple):
    """One judge vote as shown: which side it picked and why.

    `side` is `chosen`, `rejected`, `tie` or `error`. It is derived as
    `transforms.llm.judge` does (verdict A picks chosen when chosen was shown
    first), repeated here so the audit server does not import Beam.
    """

    number: int
    chosen_shown_as: str
    verdict: str
    side: str
    rationale: str


@functools.cache
def _formatter(linenos: bool = True):  # noqa: ANN202 - pygments is imported lazily
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(cssclass="hl", linenos="inline" if linenos else False)


@functools.cache
def _style_defs() -> str:
    return _formatter().get_style_defs(".hl")


def _highlight(text: str, lexer_alias: str, linenos: bool = True) -> str:
    from pygments import highlight
    from pygments.lexers import get_lexer_by_name

    return highlight(text, get_lexer_by_name(lexer_alias, stripnl=False), _formatter(linenos))


def unified_diff(rejected: str, chosen: str) -> str:
    """The unified diff from rejected to chosen, or an empty string when equal."""
    lines = difflib.unified_diff(
        rejected.splitlines(keepends=True), chosen.splitlines(keepends=True), "rejected", "chosen", n=3
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def judge_votes(label_details: str | None) -> tuple[list[JudgeVote], dict[str, Any], str | None]:
    """Splits `label_details` into the judge's votes, the judge's statistics and the rest.

    `label_details` is JSON for LLM-labelled pairs (`{"judge": {"votes": [...],
    "a_rate": ..., "position_consistency": ...}, "ratings": ..., ...}`) but free
    text for some sources (efficiency pairs), so parsing never fails.

    Returns:
        (votes, judge statistics other than the votes, every other detail as
        indented JSON, or the raw text when it is not a JSON object; None when empty).
    """
    if not label_details:
        return [], {}, None
    try:
        details = json.loads(label_details)
    except ValueError:
        return [], {}, label_details
    if not isinstance(details, dict):
        return [], {}, label_details
    judge = details.pop("judge", None)
    judge = judge if isinstance(judge, dict) else {}
    votes = []
    for number, vote in enumerate(judge.pop("votes", None) or [], 1):
        first = bool(vote.get("chosen_first"))
        verdict = vote.get("verdict")
        if verdict is None:
            side, verdict, why = "error", f"error: {vote.get('error', '?')}", str(vote.get("raw", ""))
        else:
            side = "tie" if verdict == "TIE" else ("chosen" if (verdict == "A") == first else "rejected")
            why = str(vote.get("rationale", ""))
        votes.append(JudgeVote(number, "A" if first else "B", str(verdict), side, why))
    rest = json.dumps(details, indent=2, ensure_ascii=False, sort_keys=True) if details else None
    return votes, judge, rest


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _facts(pair: AuditPair) -> str:
    judged = pair.judge_matches is not None
    rows = [
        ("language", pair.language),
        ("source", pair.source),
        ("split", pair.split),
        ("idx", pair.idx),
        ("license", pair.license),
        ("repository", pair.repository),
        ("file", pair.file_path),
        ("commit", pair.origin_commit),
        ("rating mean", None if pair.rating_mean is None else f"{pair.rating_mean:g}"),
        (
            "judge votes",
            f"{pair.judge_matches} for chosen, {pair.judge_contradictions} for rejected, "
            f"{pair.judge_ties} ties, {pair.judge_errors} errors"
            if judged
            else None,
        ),
    ]
    items = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in rows if v not in (None, ""))
    return (
        f'<section><h2>Criterion</h2><div class="criterion" id="criterion">{_esc(pair.aspect)}</div>'
        f'<dl class="facts">{items}</dl></section>'
    )


def _judge(label_details: str | None) -> str:
    votes, stats, rest = judge_votes(label_details)
    parts = []
    if votes:
        rows = "".join(
            f"<tr><td>{v.number}</td><td>{v.chosen_shown_as}</td><td>{_esc(v.verdict)}</td>"
            f'<td class="{_esc(v.side)}">{_esc(v.side)}</td><td><pre class="text">{_esc(v.rationale)}</pre></td></tr>'
            for v in votes
        )
        summary = ", ".join(f"{_esc(k)} {_esc(v)}" for k, v in sorted(stats.items()))
        parts.append(
            '<table id="votes"><tr><th>#</th><th>chosen shown as</th><th>verdict</th><th>picks</th>'
            f"<th>rationale</th></tr>{rows}</table>" + (f"<p>{summary}</p>" if summary else "")
        )
    else:
        parts.append("<p>No judge votes in this pair's label_details.</p>")
    if rest:
        parts.append(f'<details><summary>Other label details</summary><pre class="text">{_esc(rest)}</pre></details>')
    return "<section><h2>Judge</h2>" + "".join(parts) + "</section>"


def _strip(statuses: Sequence[str | None], position: int) -> str:
    cells = []
    for i, verdict in enumerate(statuses):
        classes = " ".join(c for c in ("current" if i == position else "", verdict or "") if c)
        label = (verdict or "")[:1]
        cells.append(f'<a href="/?i={i + 1}" class="{classes}" title="{i + 1}: {verdict or "no verdict"}">{label}</a>')
    return f'<section><h2>Pairs</h2><nav class="strip" id="strip">{"".join(cells)}</nav></section>'


def _verdict_bar(review: Verdict | None) -> str:
    verdict = review.verdict if review else None
    buttons = "".join(
        f'<button type="button" data-verdict="{v}" class="{v}">{v} <kbd>{v[0]}</kbd></button> ' for v in VERDICTS
    )
    return (
        f'<div class="verdict"><span id="verdict" class="badge {verdict or ""}">{verdict or "no verdict"}</span> '
        f'{buttons}<input id="note" type="text" placeholder="note (n, Enter saves)" '
        f'value="{_esc(review.note if review else "")}"> <span id="status"></span></div>'
    )


def render_page(
    pair: AuditPair,
    position: int,
    statuses: Sequence[str | None],
    reviews: Mapping[str, Verdict],
    banner: str | None = None,
) -> str:
    """The complete HTML page of the pair at `position` (0-based).

    Args:
        pair: The pair to show.
        position: Its place in the audit set.
        statuses: The verdict (or None) of every pair of the set, in order, for the
            progress strip and count.
        reviews: Stored reviews by idx; this pair's verdict and note are shown.
        banner: An optional message above the pair (e.g. all pairs reviewed).
    """
    total = len(statuses)
    reviewed = sum(s is not None for s in statuses)
    lexer = _LEXERS.get(pair.language, "text")
    diff = unified_diff(pair.rejected or "", pair.chosen or "")
    diff_html = _highlight(diff, "diff", linenos=False) if diff else "<p>identical texts</p>"
    keys = "".join(f"<li><kbd>{_esc(k)}</kbd> {_esc(v)}</li>" for k, v in SHORTCUTS)
    system = (
        f'<details><summary>System prompt</summary><pre class="text">{_esc(pair.system)}</pre></details>'
        if pair.system
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>codepref audit {position + 1} / {total}</title>
<style>{PAGE_CSS}{_style_defs()}</style></head>
<body data-idx="{_esc(pair.idx)}" data-pos="{position}" data-total="{total}">
<header><h1>codepref audit</h1><span id="progress">{position + 1} / {total}</span>
<span><span id="reviewed">{reviewed}</span> reviewed</span>{_verdict_bar(reviews.get(pair.idx))}
<ul class="keys" id="shortcuts">{keys}</ul></header>
<main>{f'<p class="badge unsure" id="banner">{_esc(banner)}</p>' if banner else ""}
{_facts(pair)}
<section><h2>Prompt</h2>{system}<pre class="text" id="prompt">{_esc(pair.input) or "(no prompt)"}</pre></section>
<div class="sides"><section class="chosen"><h2>Chosen</h2>{_highlight(pair.chosen or "", lexer)}</section>
<section class="rejected"><h2>Rejected</h2>{_highlight(pair.rejected or "", lexer)}</section></div>
<section><h2>Diff: rejected → chosen</h2>{diff_html}</section>
{_judge(pair.label_details)}
{_strip(statuses, position)}
</main><script>{PAGE_JS}</script></body></html>
"""
