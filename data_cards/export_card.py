"""The card (README.md) of a `codepref export`: the release card's YAML header and the loading recipe.

`render_export_card(out, summary, num_bytes, licences, features)` builds it from
what `export.json` holds (`pipelines.export`), with the Hub header of
`data_cards.metadata`, so `datasets.load_dataset(DIR)` and the Hub read it.
"""

__all__ = ["render_export_card"]

import os
from collections.abc import Mapping
from typing import Any

from schemas.arrow import TRL_MESSAGE_COLUMNS


_CARD = """
# codepref export of run {config_id}

The preference pairs of the codepref run with config id `{config_id}`, in {what} (`--format {layout}`).
The files are the run's (same names, the same rows in the same order); `export.json` names the source run.

| Split | Rows | Files |
|---|---:|---:|
{table}

## Columns

{columns}; `language` and `aspect` are ClassLabels, as in the release.

## How to load and train

```python
import datasets

ds = datasets.load_dataset("parquet", data_files={{{files}}})
```

{train}
"""

_LAYOUTS = {
    "trl": (
        "TRL's conversational preference layout",
        "- `prompt`: a `system` message with the pair's system prompt where it has one, then the `user` message "
        "with its `input`.\n- `chosen`, `rejected`: one `assistant` message each, the preferred and the worse "
        "response.\n- provenance: {provenance}",
        "```python\nfrom transformers import AutoModelForSequenceClassification, AutoTokenizer\n"
        "from trl import RewardConfig, RewardTrainer\n\ntokenizer = AutoTokenizer.from_pretrained(MODEL)\n"
        "model = AutoModelForSequenceClassification.from_pretrained(MODEL, num_labels=1)\n"
        'args = RewardConfig(output_dir="rm")\n'
        'trainer = RewardTrainer(model=model, args=args, train_dataset=ds["train"], processing_class=tokenizer)\n'
        "trainer.train()\n```\n\n`DPOTrainer` (with `DPOConfig` and a causal LM) takes the same columns; both "
        "apply the tokenizer's chat template to the messages.",
    ),
    "themis": (
        "the Themis-CodePreference columns",
        "- {provenance}",
        "`codepref train --data DIR --model MODEL --output runs/rm` trains a reward model on them.",
    ),
}
"""Per layout: what it is, its columns and how to train on it, for the card."""


def render_export_card(
    out: str, summary: dict[str, Any], num_bytes: Mapping[str, int], licences: Mapping, features: Any
) -> str:
    """The export's README.md: the release card's YAML header (`data_cards.metadata`) and a short body.

    Args:
        out: the export folder (the files' sizes are the header's `download_size`).
        summary: what `export.json` holds.
        num_bytes: per split, the Arrow bytes of its rows.
        licences: (source, licence or None) → rows (the header's `license`).
        features: the export's `datasets.Features` (`pipelines.export.export_features`).
    """
    from data_cards import metadata
    from data_cards.stats import JudgeStats, ReleaseStats, SplitStats

    layout, config_id, splits = summary["format"], summary["config_id"], summary["splits"]
    stats = ReleaseStats(
        splits=tuple(
            SplitStats(
                split,
                info["rows"],
                num_bytes[split],
                sum(os.path.getsize(os.path.join(out, f)) for f in info["files"]),
                tuple(info["files"]),
            )
            for split, info in splits.items()
        ),
        composition={},
        lengths={},
        judge=JudgeStats(0, {}, {}, None, None),
        licences=dict(licences),
    )
    card = metadata.card_metadata(stats, features, f"codepref {config_id} ({layout})")
    card.tags = [*card.tags, *metadata.CONFIG_TAGS[layout]]
    present = [s.name for s in stats.splits if s.files]  # the header leaves out splits without files too
    what, columns, train = _LAYOUTS[layout]
    messages = TRL_MESSAGE_COLUMNS if layout == "trl" else ()
    provenance = ", ".join(f"`{name}`" for name in summary["columns"] if name not in messages)
    body = _CARD.format(
        config_id=config_id,
        what=what,
        layout=layout,
        table="\n".join(f"| {split} | {info['rows']:,} | {len(info['files'])} |" for split, info in splits.items()),
        columns=columns.format(provenance=provenance),
        files=", ".join(f'"{s}": "data/{s}-*.parquet"' for s in present),
        train=train,
    )
    return metadata.render_header(card) + body
