"""Agreement of a person's verdicts with the release's labels, per criterion × language.

Agreement is agree / (agree + disagree). `unsure` verdicts are counted and shown
but left out of the rate: "cannot tell" is neither evidence for nor against the
label, and folding it into either side would bias the rate by the reviewer's
caution. Pairs without a verdict are shown as pending.

Each rate carries a 95% Wilson score interval. Audit cells are small (a handful of
pairs per criterion × language) and rates near 1 are the point of an audit; the
Wald interval p ± z·sqrt(p(1−p)/n) collapses to zero width at p = 1 and leaves
[0, 1] for small n, while Wilson's stays inside [0, 1] and has close to nominal
coverage down to n of about 5 (Brown, Cai & DasGupta 2001, "Interval Estimation
for a Binomial Proportion").

Rows: every criterion × language cell of the audit set, then each criterion over
all languages, then each language over all criteria, then everything. `report`
writes the text table and a dot plot with the intervals as bars (PNG, rendered with
matplotlib's Agg canvas, no display needed).
"""

__all__ = ["ALL", "Cell", "agreement_cells", "format_table", "plot_agreement", "report", "wilson_interval"]

import os
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from pipelines.audit.records import STORE_FILE, AuditPair, load_audit
from pipelines.audit.store import Verdict, VerdictStore
from schemas.labels import ASPECTS, LANGUAGES


ALL = "all"
"""The `aspect` or `language` of a total row."""

Z95 = statistics.NormalDist().inv_cdf(0.975)
"""The two-sided 95% normal quantile, 1.95996…"""

DEFAULT_PNG = "agreement.png"
"""Where `report` writes the plot in the audit folder unless told otherwise."""


class Cell(NamedTuple):
    """Verdict counts of one criterion × language cell (or a total row)."""

    aspect: str
    language: str
    agree: int
    disagree: int
    unsure: int
    pending: int

    @property
    def decided(self) -> int:
        """Verdicts that count towards the rate: agree + disagree."""
        return self.agree + self.disagree

    @property
    def rate(self) -> float | None:
        """The agreement rate agree / (agree + disagree), or None without such verdicts."""
        return self.agree / self.decided if self.decided else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95% Wilson interval of `rate`, or None."""
        return wilson_interval(self.agree, self.decided)


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a binomial proportion.

    center = (p + z²/2n) / (1 + z²/n), half width = z/(1 + z²/n) · sqrt(p(1−p)/n + z²/4n²).

    Args:
        successes: k, with 0 ≤ k ≤ n.
        trials: n; 0 gives None (no information).
        z: The normal quantile; the default gives a two-sided 95% interval.

    Returns:
        (low, high), clipped to [0, 1] against rounding, or None when n = 0.

    Raises:
        ValueError: k outside [0, n].
    """
    if not 0 <= successes <= trials:
        raise ValueError(f"successes {successes} outside [0, {trials}]")
    if trials == 0:
        return None
    n, p = trials, successes / trials
    denominator = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denominator
    half = z / denominator * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5
    # At k = 0 and k = n the bound is exactly 0 or 1; computing it would leave rounding noise.
    low = 0.0 if successes == 0 else max(0.0, center - half)
    high = 1.0 if successes == trials else min(1.0, center + half)
    return low, high


def _order(value: str, names: Sequence[str]) -> tuple[int, str]:
    return (names.index(value) if value in names else len(names), value)


def agreement_cells(pairs: Iterable[AuditPair], reviews: Mapping[str, Verdict]) -> list[Cell]:
    """Counts verdicts per criterion × language, then the totals (see the module docstring).

    Reviews of pairs not in `pairs` (left from an earlier sample) are ignored.
    """
    counts: dict[tuple[str, str], list[int]] = {}
    slot = {"agree": 0, "disagree": 1, "unsure": 2, None: 3}
    for pair in pairs:
        review = reviews.get(pair.idx)
        verdict = review.verdict if review else None
        for key in ((pair.aspect, pair.language), (pair.aspect, ALL), (ALL, pair.language), (ALL, ALL)):
            counts.setdefault(key, [0, 0, 0, 0])[slot[verdict]] += 1
    cells = [Cell(a, lang, *c) for (a, lang), c in counts.items()]

    def sort_key(cell: Cell) -> tuple:
        # 0 cells, 1 criterion totals, 2 language totals, 3 everything
        group = (cell.aspect == ALL) * 2 + (cell.language == ALL)
        return group, _order(cell.aspect, ASPECTS), _order(cell.language, LANGUAGES)

    return sorted(cells, key=sort_key)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def format_table(cells: Sequence[Cell]) -> str:
    """A fixed-width text table of the cells, one row each."""
    header = ("criterion", "language", "agree", "disagree", "unsure", "pending", "agreement", "95% CI (Wilson)")
    rows = []
    for c in cells:
        ci = c.interval
        rows.append(
            (
                c.aspect,
                c.language,
                str(c.agree),
                str(c.disagree),
                str(c.unsure),
                str(c.pending),
                _percent(c.rate),
                "—" if ci is None else f"[{_percent(ci[0])}, {_percent(ci[1])}]",
            )
        )
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    numeric = range(2, len(header))
    lines = [
        "  ".join(v.rjust(w) if i in numeric else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths, strict=True)))
        for r in (header, *rows)
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def plot_agreement(cells: Sequence[Cell], path: str, title: str = "Agreement with the labels") -> str:
    """Writes a dot plot of each cell's rate with its Wilson interval as a bar; returns `path`.

    Cells without agree/disagree verdicts are left out (they have no rate). Total
    rows are drawn in black, criterion × language cells in blue, and a dashed line
    marks the overall rate.
    """
    from matplotlib.figure import Figure

    shown = [c for c in cells if c.decided]
    fig = Figure(figsize=(8, 1.2 + 0.28 * max(len(shown), 1)), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.set_xlim(-0.03, 1.03)  # room for the dots at 0 and 1
    ax.set_xlabel("agree / (agree + disagree), 95% Wilson interval")
    if not shown:
        ax.text(0.5, 0.5, "no agree/disagree verdicts yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    for y, c in enumerate(shown):
        low, high = c.interval
        total = ALL in (c.aspect, c.language)
        color = "black" if total else "tab:blue"
        ax.errorbar([c.rate], [y], xerr=[[c.rate - low], [high - c.rate]], fmt="o", color=color, capsize=3, ms=4)
    if shown:
        ax.set_yticks(range(len(shown)), [f"{c.aspect} · {c.language} (n={c.decided})" for c in shown], fontsize=8)
        ax.invert_yaxis()
        overall = next((c for c in shown if c.aspect == ALL and c.language == ALL), None)
        if overall is not None:
            ax.axvline(overall.rate, color="grey", linestyle="--", linewidth=1)
    ax.grid(axis="x", alpha=0.3)
    fig.savefig(path, dpi=120)
    return path


class Report(NamedTuple):
    """The result of `report`."""

    cells: list[Cell]
    text: str
    png: str | None


def report(audit_dir: str, png: str | None = "") -> Report:
    """Reads an audit folder's set and verdicts and builds the agreement report.

    Args:
        audit_dir: A folder holding `audit.jsonl` and `verdicts.sqlite`.
        png: Where to write the plot; "" (the default) means
            `audit_dir/agreement.png`, None writes no plot.

    Returns:
        The cells, the text (a summary line and the table) and the PNG path.

    Raises:
        AuditError: no audit set in `audit_dir`.
    """
    pairs = load_audit(audit_dir)
    store = VerdictStore(os.path.join(audit_dir, STORE_FILE))
    reviews = store.all()
    meta = store.meta()
    cells = agreement_cells(pairs, reviews)
    overall = next(c for c in cells if c.aspect == ALL and c.language == ALL)
    source = meta.get("out_dir", audit_dir)
    summary = (
        f"Audit of {source}"
        + (f" (config {meta['config_id']})" if meta.get("config_id") else "")
        + (f", seed {meta['seed']}" if "seed" in meta else "")
        + f": {overall.decided + overall.unsure} of {len(pairs)} pairs reviewed "
        f"({overall.agree} agree, {overall.disagree} disagree, {overall.unsure} unsure). "
        "Agreement = agree / (agree + disagree); unsure is counted apart."
    )
    text = summary + "\n\n" + format_table(cells)
    path = None
    if png is not None:
        path = plot_agreement(cells, png or os.path.join(audit_dir, DEFAULT_PNG))
    return Report(cells, text, path)
