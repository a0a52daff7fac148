"""The card's "how to load" section: `datasets`, the ClassLabel ids, and training with TRL.

`render_loading(repo_id, features, split, configs)` is pure. With a `trl` config
published alongside (`codepref publish --export`), the TRL recipe loads it from
the repository (`load_dataset(REPO, "trl")`); otherwise it exports the release
first, because TRL's trainers read `prompt` and a release's prompt column is
`input`: given the release itself, they would train on the code alone.
"""

__all__ = ["render_loading"]

from collections.abc import Sequence
from typing import Any

from data_cards.sections import md_table


_CONFIG_MEANINGS = {
    "default": "the pairs in the Themis-CodePreference columns and codepref's provenance",
    "trl": "the same pairs in TRL's conversational layout (`prompt`, `chosen`, `rejected` messages), for "
    "`RewardTrainer` and `DPOTrainer`",
    "themis": "the same pairs in the Themis-CodePreference columns only",
}


def render_loading(repo_id: str, features: Any, split: str, configs: Sequence[str] = ()) -> str:
    """How to load the dataset, the ClassLabel names with their ids, and how to train on it with TRL.

    Args:
        repo_id: the Hub id, `ORG/NAME`.
        features: the release's `datasets.Features`.
        split: the split the snippets use.
        configs: the configs published besides `default` (`trl`, `themis`).
    """
    snippet = (
        "```python\nfrom datasets import load_dataset\n\n"
        f'ds = load_dataset("{repo_id}")\n'
        f'row = ds["{split}"][0]\n'
        f'aspect = ds["{split}"].features["aspect"].int2str(row["aspect"])\n'
        f'language = ds["{split}"].features["language"].int2str(row["language"])\n```'
    )
    parts = [snippet]
    if configs:
        parts.append(
            md_table(["config", "what it holds"], [[f"`{c}`", _CONFIG_MEANINGS[c]] for c in ("default", *configs)])
        )
    parts.append("`language` and `aspect` are ClassLabels; their ids mean:")
    for column in ("aspect", "language"):
        names = features[column].names
        parts.append(md_table(["id", column], [[i, name] for i, name in enumerate(names)]))
    recipe = _trl_from_config(repo_id, split) if "trl" in configs else _trl_through_export(split)
    return "\n\n".join([*parts, *recipe])


def _trainer(split: str) -> str:
    return (
        "trainer = RewardTrainer(\n"
        "    model=model,  # AutoModelForSequenceClassification, num_labels=1\n"
        '    args=RewardConfig(output_dir="rm"),\n'
        f'    train_dataset=ds["{split}"],\n'
        "    processing_class=tokenizer,\n"
        ")\ntrainer.train()\n```"
    )


def _trl_from_config(repo_id: str, split: str) -> list[str]:
    """Training with TRL on the published `trl` config."""
    return [
        "**Training with TRL.** Load the `trl` config: TRL's trainers read its `prompt`, `chosen` and `rejected` "
        "messages (a system message where the pair has a system prompt, then the user's `input`). The `default` "
        "config's prompt column is `input`, so TRL given it would train on the code alone.",
        "```python\nfrom datasets import load_dataset\nfrom trl import RewardConfig, RewardTrainer\n\n"
        f'ds = load_dataset("{repo_id}", "trl")\n' + _trainer(split),
        "`DPOTrainer` (with `DPOConfig` and a causal LM) takes the same config.",
    ]


def _trl_through_export(split: str) -> list[str]:
    """Training with TRL through `codepref export --format trl`, never on the release itself."""
    return [
        "**Training with TRL.** Do not give this dataset to TRL's trainers as it is: they read `prompt`, "
        "`chosen` and `rejected`, and its prompt column is `input`, so TRL would train on the code alone "
        "(`codepref train --data RUN` reads it as it is). Export it to TRL's conversational layout first; "
        "`RUN` is the codepref run folder or a local copy of this repository (its `manifest.json` and `data/`):",
        "```bash\ncodepref export RUN --format trl --out DIR\n```",
        "```python\nimport datasets\nfrom trl import RewardConfig, RewardTrainer\n\n"
        f'ds = datasets.load_dataset("parquet", data_files={{"{split}": "DIR/data/{split}-*.parquet"}})\n'
        + _trainer(split),
        "`DPOTrainer` (with `DPOConfig` and a causal LM) takes the same export.",
    ]
