"""The card's figures: PNGs drawn from `ReleaseStats` and the manifest's stages.

Each `plot_*` function draws one figure and writes it to the given path:

* `plot_heatmap`: rows per criterion × language, counts written in the cells;
* `plot_lengths`: token-length histograms of chosen vs rejected, and of prompts;
* `plot_judge_votes`: how many pairs got 0, 1, 2... votes of each kind;
* `plot_funnel`: each stage's input as a bar split into kept rows and rejects by reason;
* `plot_kill_rates`: the execution stage's kill rate per mutation operator, all languages pooled.

Figures are built on `matplotlib.figure.Figure` with an explicit Agg canvas
(never pyplot, whose global state and backend selection would leak between
calls and threads) under matplotlib's default style, so a user's `matplotlibrc`
cannot change the pictures. The PNGs carry no `Software` text chunk (the
matplotlib version) and Agg writes no timestamp, so the same statistics give
byte-identical files on the same matplotlib and FreeType build.
"""

__all__ = ["DPI", "plot_funnel", "plot_heatmap", "plot_judge_votes", "plot_kill_rates", "plot_lengths"]

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from data_cards.stats import JUDGE_KINDS, Histogram, JudgeStats


if TYPE_CHECKING:
    from data_cards.execution import OperatorRate


DPI = 100
_PNG_METADATA = {"Software": None}
_RC = {"font.size": 9, "axes.titlesize": 10, "figure.dpi": DPI, "savefig.dpi": DPI}


@contextlib.contextmanager
def _figure(width: float, height: float) -> Iterator[Any]:
    """A Figure on an Agg canvas under the default style (see the module docstring)."""
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.style.context("default"), matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        yield fig


def _save(fig: Any, path: str) -> str:
    fig.savefig(path, format="png", dpi=DPI, metadata=_PNG_METADATA)
    return path


def plot_heatmap(
    composition: Mapping[tuple[str, str, str, str], int], criteria: Sequence[str], languages: Sequence[str], path: str
) -> str:
    """Draws rows per criterion (y) × language (x) over all splits and sources.

    Every ClassLabel name gets a row or column, empty or not, so the figures of two
    releases line up.

    Args:
        composition: (split, source, criterion, language) → rows.
        criteria: the criterion names, in ClassLabel order.
        languages: the language names, in ClassLabel order.
        path: where to write the PNG.

    Returns:
        `path`.
    """
    grid = [[0] * len(languages) for _ in criteria]
    for (_, _, criterion, language), rows in composition.items():
        if criterion in criteria and language in languages:
            grid[criteria.index(criterion)][languages.index(language)] += rows
    peak = max((max(row) for row in grid), default=0) or 1
    with _figure(1.6 + 0.75 * len(languages), 1.2 + 0.45 * len(criteria)) as fig:
        ax = fig.add_subplot()
        image = ax.imshow(grid, cmap="Blues", vmin=0, vmax=peak, aspect="auto")
        ax.set_xticks(range(len(languages)), labels=list(languages), rotation=30, ha="right")
        ax.set_yticks(range(len(criteria)), labels=list(criteria))
        for y, row in enumerate(grid):
            for x, rows in enumerate(row):
                colour = "white" if rows > peak / 2 else "black"
                ax.text(x, y, f"{rows:,}", ha="center", va="center", color=colour, fontsize=8)
        ax.set_title("Pairs per criterion and language")
        fig.colorbar(image, ax=ax, label="pairs")
        return _save(fig, path)


def plot_lengths(lengths: Mapping[str, Histogram], path: str) -> str:
    """Draws token-length histograms: chosen vs rejected side by side, and prompts.

    Bins are the power-of-two bins of `ReleaseStats.lengths`, drawn as categories
    so short and long pairs get the same width.

    Args:
        lengths: "prompt" / "chosen" / "rejected" → histogram (shared edges).
        path: where to write the PNG.

    Returns:
        `path`.
    """
    labels = lengths["chosen"].labels()
    xs = range(len(labels))
    with _figure(10, 3.4) as fig:
        left, right = fig.subplots(1, 2, sharey=False)
        width = 0.4
        left.bar([x - width / 2 for x in xs], lengths["chosen"].counts, width, label="chosen", color="tab:green")
        left.bar([x + width / 2 for x in xs], lengths["rejected"].counts, width, label="rejected", color="tab:red")
        left.set_title("Responses: chosen vs rejected")
        left.legend()
        right.bar(xs, lengths["prompt"].counts, 0.8, color="tab:blue")
        right.set_title("Prompts (input)")
        for ax in (left, right):
            ax.set_xticks(xs, labels=labels, rotation=45, ha="right")
            ax.set_xlabel("estimated tokens")
            ax.set_ylabel("pairs")
        return _save(fig, path)


def plot_judge_votes(judge: JudgeStats, path: str) -> str:
    """Draws, for each vote kind, how many pairs got 0, 1, 2... votes of that kind.

    Args:
        judge: the judge's statistics (at least one judged pair).
        path: where to write the PNG.

    Returns:
        `path`.
    """
    most = max((k for counts in judge.distribution.values() for k in counts), default=0)
    xs = range(most + 1)
    kinds = [kind for kind, _ in JUDGE_KINDS]
    colours = {"matches": "tab:green", "contradictions": "tab:red", "ties": "tab:gray", "errors": "tab:orange"}
    width = 0.8 / len(kinds)
    with _figure(6.4, 3.2) as fig:
        ax = fig.add_subplot()
        for i, kind in enumerate(kinds):
            counts = [judge.distribution[kind].get(x, 0) for x in xs]
            offset = (i - (len(kinds) - 1) / 2) * width
            ax.bar([x + offset for x in xs], counts, width, label=kind, color=colours[kind])
        ax.set_xticks(xs)
        ax.set_xlabel("votes of this kind in a pair")
        ax.set_ylabel("pairs")
        ax.set_title(f"Judge votes over {judge.pairs:,} judged pairs")
        ax.legend()
        return _save(fig, path)


def plot_funnel(stages: Sequence[Mapping[str, Any]], path: str) -> str:
    """Draws each stage's input as a horizontal bar: kept rows, then rejects stacked by reason.

    Stages are drawn in manifest (pipeline) order from top to bottom; a reason keeps
    one colour across stages.

    Args:
        stages: the manifest's `stages` (`name`, `in`, `out`, `rejected`).
        path: where to write the PNG.

    Returns:
        `path`.
    """
    import matplotlib

    reasons = sorted({reason for stage in stages for reason in stage["rejected"]})
    palette = [matplotlib.colormaps["tab20"](i) for i in range(20) if i not in (4, 5)]  # greens mean "kept"
    colours = {reason: palette[i % len(palette)] for i, reason in enumerate(reasons)}
    names = [stage["name"] for stage in stages]
    with _figure(10, 1.4 + 0.32 * len(stages) + 0.16 * len(reasons)) as fig:
        ax = fig.add_subplot()
        ys = range(len(stages))
        ax.barh(ys, [stage["out"] for stage in stages], color="tab:green", label="kept")
        left = [stage["out"] for stage in stages]
        for reason in reasons:
            widths = [stage["rejected"].get(reason, 0) for stage in stages]
            ax.barh(ys, widths, left=left, color=colours[reason], label=f"rejected: {reason}")
            left = [a + b for a, b in zip(left, widths, strict=True)]
        ax.set_yticks(ys, labels=names)
        ax.invert_yaxis()
        ax.set_xlabel("rows into the stage")
        ax.set_title("Filtering funnel: kept and rejected rows per stage")
        fig.legend(loc="outside lower center", ncols=3, fontsize=7)
        return _save(fig, path)


def plot_kill_rates(rates: Sequence["OperatorRate"], path: str) -> str:
    """Draws each operator's kill rate (bugs the tests caught / bugs tried) as a horizontal bar.

    Operators are drawn in the given order from top to bottom, each bar labelled
    with its `killed / tried` counts, on a fixed 0-100% axis so releases compare.

    Args:
        rates: per operator, all languages pooled (`data_cards.execution.operator_kill_rates`).
        path: where to write the PNG.

    Returns:
        `path`.
    """
    percents = [100 * rate.killed / rate.tried if rate.tried else 0.0 for rate in rates]
    with _figure(6.4, 1.2 + 0.3 * len(rates)) as fig:
        ax = fig.add_subplot()
        ys = range(len(rates))
        ax.barh(ys, percents, color="tab:green")
        for y, rate, percent in zip(ys, rates, percents, strict=True):
            ax.text(min(percent, 100) + 1, y, f"{rate.killed:,} / {rate.tried:,}", va="center", fontsize=7)
        ax.set_yticks(ys, labels=[rate.operator for rate in rates])
        ax.invert_yaxis()
        ax.set_xlim(0, 115)
        ax.set_xticks(range(0, 101, 20))
        ax.set_xlabel("kill rate (%): planted bugs the tests caught")
        ax.set_title("Kill rate per operator, all languages")
        return _save(fig, path)
