"""Renders a release's dataset card: `README.md` and its figures, from a run folder.

`render_card(run_dir, out_dir, repo_id, version)` reads `manifest.json`, streams
the shards into `ReleaseStats` (`data_cards.stats`), draws the figures into
`out_dir/images/` (`data_cards.plots`), and fills `data_cards/template.md` with
the `render_*` sections (`data_cards.sections`, and the optional execution
section of `data_cards.execution`) under the Hub's YAML header
(`data_cards.metadata`). `card_markdown` is the pure part: statistics and
manifest in, Markdown out. The text is scanned for secrets before anything is
written (`CardSecretError`): it shows source names, licences and the config.

The card is generated, never hand-edited (a hand edit is lost at the next
release): every number comes from the data or the manifest, and the same run
folder gives byte-identical files (no dates; sorted keys; PNGs without
timestamps), so a re-render shows no diff when nothing changed.
"""

__all__ = [
    "EXECUTION_IMAGE",
    "IMAGES",
    "CardSecretError",
    "card_markdown",
    "fill_template",
    "load_template",
    "optional_section",
    "render_card",
]

import importlib.resources
import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from data_cards import execution, loading, metadata, plots, sections
from data_cards.stats import ReleaseStats, compute_stats, load_manifest, read_features
from schemas.errors import ReleaseError


IMAGES = {
    "heatmap": "images/composition_heatmap.png",
    "lengths": "images/token_lengths.png",
    "judge": "images/judge_votes.png",
    "funnel": "images/funnel.png",
}
"""Figure name → path relative to the README (the card links them as written)."""
EXECUTION_IMAGE = "images/kill_rates.png"
"""The kill rate per operator, drawn only for a release whose manifest has an `execution` section."""

_PLACEHOLDER = re.compile(r"\[\[([a-z_]+)\]\]")


class CardSecretError(ReleaseError, ValueError):
    """The card would show a secret (from a column, a source name or the config); nothing is written.

    A `ReleaseError`: the run must not be published, and `codepref demo` reports it as one.
    """


def load_template() -> str:
    """Returns `data_cards/template.md`: the card's headings and `[[placeholders]]`."""
    return importlib.resources.files("data_cards").joinpath("template.md").read_text(encoding="utf-8")


def fill_template(template: str, values: Mapping[str, str]) -> str:
    """Replaces each `[[name]]` with `values[name]`.

    Raises:
        ValueError: a placeholder has no value, or a value has no placeholder (a
            section rendered but silently missing from the card).
    """
    wanted = set(_PLACEHOLDER.findall(template))
    if wanted != set(values):
        raise ValueError(f"template placeholders {sorted(wanted)} != sections {sorted(values)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def optional_section(heading: str, body: str | None) -> str:
    """The text of a section the card may lack: its heading and body after a blank line, or "" for none.

    Its placeholder sits at the end of the previous section's line in the template
    (`[[funnel]][[execution]]`), so a card without the section is the same as before
    the section existed.
    """
    return "" if body is None else f"\n\n{heading}\n\n{body}"


def card_markdown(
    stats: ReleaseStats,
    manifest: Mapping[str, Any],
    features: Any,
    repo_id: str,
    version: str,
    previous_manifest: Mapping[str, Any] | None = None,
    previous_version: str | None = None,
    pretty_name: str | None = None,
    configs: Sequence[metadata.CardConfig] = (),
) -> str:
    """Returns the whole README.md: YAML header and Markdown body.

    Args:
        stats: the release's statistics.
        manifest: the run's manifest.
        features: the release's `datasets.Features`.
        repo_id: the Hub id, `ORG/NAME`.
        version: this release's version.
        previous_manifest: the manifest of the previous release, if any.
        previous_version: its version.
        pretty_name: the display name; default the NAME part of `repo_id`.
        configs: the exports published with the release, as configs after `default`.
    """
    pretty_name = pretty_name or repo_id.split("/")[-1]
    criteria, languages = list(features["aspect"].names), list(features["language"].names)
    header = metadata.card_metadata(stats, features, pretty_name, configs)
    first_split = next((s.name for s in stats.splits if s.files), stats.splits[0].name if stats.splits else "train")
    body = fill_template(
        load_template(),
        {
            "pretty_name": pretty_name,
            "summary": sections.render_summary(stats, manifest, repo_id, version),
            "composition": sections.render_composition(stats, criteria, languages, IMAGES["heatmap"]),
            "funnel": sections.render_funnel(manifest, IMAGES["funnel"]),
            "execution": optional_section(
                execution.HEADING, execution.render_execution(stats, manifest, EXECUTION_IMAGE)
            ),
            "judge": sections.render_judge(stats.judge, IMAGES["judge"] if stats.judge.pairs else None),
            "lengths": sections.render_lengths(stats.lengths, IMAGES["lengths"]),
            "licences": sections.render_licences(stats.licences, header.license),
            "loading": loading.render_loading(repo_id, features, first_split, [c.name for c in configs]),
            "changes": sections.render_changes(stats, manifest, version, previous_manifest, previous_version),
            "configuration": sections.render_configuration(manifest),
            "citation": sections.render_citation(repo_id, version),
        },
    )
    return metadata.render_header(header) + "\n" + body


def _previous(previous: Mapping[str, Any] | str | os.PathLike | None) -> Mapping[str, Any] | None:
    """A previous manifest given as a dict, a manifest.json path or a run folder."""
    if previous is None or isinstance(previous, Mapping):
        return previous
    path = os.fspath(previous)
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    return load_manifest(path)


def render_card(
    run_dir: str,
    out_dir: str,
    repo_id: str,
    version: str,
    previous_manifest: Mapping[str, Any] | str | os.PathLike | None = None,
    previous_version: str | None = None,
    pretty_name: str | None = None,
    configs: Sequence[metadata.CardConfig] = (),
) -> str:
    """Writes `out_dir/README.md` and `out_dir/images/*.png` for the release in `run_dir`.

    Args:
        run_dir: the folder `codepref build` wrote (local path or URI).
        out_dir: a local folder for the card (created if needed; may be `run_dir`).
        repo_id: the Hub id, `ORG/NAME`, used in the loading snippet and citation.
        version: this release's version, e.g. `v1.1.0`.
        previous_manifest: the previous release's manifest (dict, manifest.json path
            or run folder), to report changes; None for the first version.
        previous_version: the previous release's version.
        pretty_name: the display name; default the NAME part of `repo_id`.
        configs: the exports published with the release (`pipelines.publish_exports`).

    Returns:
        The path of the README.md written.

    Raises:
        CardSecretError: the card's text holds a secret (`transforms.filters.secrets`);
            no README.md is written.
        ValueError: the files hold other row counts than the manifest says.
    """
    from transforms.filters.secrets import find_secrets

    manifest = load_manifest(run_dir)
    stats = compute_stats(run_dir, manifest)
    features = read_features(run_dir, manifest)
    text = card_markdown(
        stats,
        manifest,
        features,
        repo_id,
        version,
        _previous(previous_manifest),
        previous_version,
        pretty_name,
        configs,
    )
    findings = find_secrets(text)  # before anything is written (the figures show the card's names too)
    if findings:
        where = "; ".join(f"{f.type} on line {f.line}" for f in findings)
        raise CardSecretError(f"the card of {run_dir} would show secrets ({where}); nothing was written")
    os.makedirs(os.path.join(out_dir, "images"), exist_ok=True)

    def image(name: str) -> str:
        return os.path.join(out_dir, IMAGES[name])

    for relative in (*IMAGES.values(), EXECUTION_IMAGE):  # a figure left from an earlier render describes other data
        if os.path.exists(os.path.join(out_dir, relative)):
            os.remove(os.path.join(out_dir, relative))
    plots.plot_heatmap(stats.composition, features["aspect"].names, features["language"].names, image("heatmap"))
    plots.plot_lengths(stats.lengths, image("lengths"))
    plots.plot_funnel(manifest["stages"], image("funnel"))
    if stats.judge.pairs:
        plots.plot_judge_votes(stats.judge, image("judge"))
    kill_rates = execution.operator_kill_rates((manifest.get("execution") or {}).get("kill_rates", []))
    if kill_rates:  # `render_execution` links the figure exactly then
        plots.plot_kill_rates(kill_rates, os.path.join(out_dir, EXECUTION_IMAGE))
    path = os.path.join(out_dir, "README.md")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return path
