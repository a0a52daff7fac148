"""The card's YAML header: the metadata the Hugging Face Hub reads from README.md.

`card_metadata` returns the header as a `huggingface_hub.DatasetCardData`:

* `dataset_info` (features, splits with `num_examples` / `num_bytes`,
  `download_size`, `dataset_size`) is written by `datasets` itself
  (`DatasetInfosDict.to_dataset_card_data`), from the features stored in the
  shards, so ClassLabels come out in the Hub's form (`class_label: names: {'0': ...}`)
  with the names in label-id order, exactly as `datasets` reads them back;
* `configs`: the `default` config, whose `data_files` map each split to
  `data/{split}-*` (the shard names `codepref build` writes), then one per export
  published with the release (`CardConfig`: `trl/{split}-*`, ...);
* `license`: see `card_license`;
* `task_categories`: `text-classification` (a reward model scores a response: a
  sequence-classification head) and `reinforcement-learning` (the Hub's task for
  RLHF preference data), both on the Hub's task list;
* `size_categories`: the Hub's bucket of the total row count (`size_category`);
* `language`: `en` (prompts pass an English filter) and `code`; `tags` (`TAGS`, plus
  `CONFIG_TAGS` of each published export); `pretty_name`.
"""

__all__ = [
    "CONFIG_TAGS",
    "HUB_LICENSES",
    "CardConfig",
    "TAGS",
    "TASK_CATEGORIES",
    "card_license",
    "card_metadata",
    "render_header",
    "size_category",
]

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from data_cards.stats import ReleaseStats, SplitStats


TASK_CATEGORIES: tuple[str, ...] = ("text-classification", "reinforcement-learning")
TAGS: tuple[str, ...] = ("code", "preference", "reward-modeling", "rlhf", "codepref")
"""What a release is directly usable for: preference pairs for a reward model, in the Themis columns.

No `dpo` or `trl` tag of its own: TRL's trainers read `prompt`, and a release's prompt
column is `input`, so only a `codepref export --format trl` is in their layout; its card,
and a release published with it as the `trl` config, add those tags (`CONFIG_TAGS`).
"""
CONFIG_TAGS: dict[str, tuple[str, ...]] = {"trl": ("trl", "dpo"), "themis": ()}
"""Per export layout, the tags it adds: TRL's `RewardTrainer` and `DPOTrainer` both take the `trl` layout."""


@dataclasses.dataclass(frozen=True)
class CardConfig:
    """A config of the repository besides `default`: an export published with the release.

    Attributes:
        name: the config name (the export's format: `trl`, `themis`).
        splits: its splits, `files` as paths in the repository (`trl/train-00000-of-00001.parquet`).
        features: its `datasets.Features`.
    """

    name: str
    splits: tuple[SplitStats, ...]
    features: Any


HUB_LICENSES: frozenset[str] = frozenset(
    {
        "0bsd",
        "afl-3.0",
        "agpl-3.0",
        "apache-2.0",
        "artistic-2.0",
        "bsd-2-clause",
        "bsd-3-clause",
        "bsd-3-clause-clear",
        "bsl-1.0",
        "cc-by-4.0",
        "cc-by-sa-4.0",
        "cc0-1.0",
        "ecl-2.0",
        "epl-1.0",
        "epl-2.0",
        "eupl-1.1",
        "gpl-2.0",
        "gpl-3.0",
        "isc",
        "lgpl-2.1",
        "lgpl-3.0",
        "lppl-1.3c",
        "mit",
        "mpl-2.0",
        "ms-pl",
        "ncsa",
        "odc-by",
        "odbl",
        "ofl-1.1",
        "osl-3.0",
        "postgresql",
        "unlicense",
        "wtfpl",
        "zlib",
    }
)
"""Licence ids of the Hub's licence list that codepref's sources can carry (lowercase SPDX)."""

_SIZE_BUCKETS: tuple[tuple[int, str], ...] = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
)


def size_category(rows: int) -> str:
    """Returns the Hub's `size_categories` bucket of a row count (`n<1K`, `1K<n<10K`, ...)."""
    for bound, name in _SIZE_BUCKETS:
        if rows < bound:
            return name
    return "n>1B"


def card_license(licences: Mapping[tuple[str, str | None], int]) -> str:
    """Returns the card's `license`: the one licence every row shares, else `other`.

    A release mixes sources under their own licences, and every row keeps its
    licence in the `license` column. No single id is true of the whole release
    unless all rows carry the same one, so anything else (several licences, a
    row without one, an id not on the Hub's list) is `other`, and the card's
    licence section lists each source's licences with their row counts. Picking
    "the most restrictive" instead would claim terms no source granted.

    Args:
        licences: (source, licence or None) → rows.
    """
    ids = {licence.lower() if licence else None for _, licence in licences}
    if len(ids) == 1:
        (only,) = ids
        if only in HUB_LICENSES:
            return only
    return "other"


def _config_info(splits: Sequence[SplitStats], features: Any) -> Any:  # datasets.DatasetInfo
    import datasets

    split_dict = datasets.SplitDict()
    for s in splits:
        split_dict.add(datasets.SplitInfo(name=s.name, num_bytes=s.num_bytes, num_examples=s.rows))
    return datasets.DatasetInfo(
        features=features,
        splits=split_dict,
        download_size=sum(s.download_size for s in splits),
        dataset_size=sum(s.num_bytes for s in splits),
    )


def card_metadata(
    stats: ReleaseStats, features: Any, pretty_name: str, configs: Sequence[CardConfig] = ()
) -> Any:  # huggingface_hub.DatasetCardData
    """Builds the header of the card.

    Args:
        stats: the release's statistics (splits with rows and bytes).
        features: the release's `datasets.Features`.
        pretty_name: the dataset's display name.
        configs: the exports published with the release, each a config after `default`.

    Returns:
        A `huggingface_hub.DatasetCardData`; splits without files are left out
        (a `data_files` pattern that matches nothing fails to load on the Hub).
    """
    from datasets.info import DatasetInfosDict
    from huggingface_hub import DatasetCardData

    every = [CardConfig("default", stats.splits, features), *configs]
    folders = {"default": "data"}
    card = DatasetCardData(
        pretty_name=pretty_name,
        license=card_license(stats.licences),
        language=["en", "code"],
        task_categories=list(TASK_CATEGORIES),
        size_categories=[size_category(stats.rows)],
        tags=[*TAGS, *(tag for config in configs for tag in CONFIG_TAGS.get(config.name, ()))],
        configs=[
            {
                "config_name": config.name,
                "data_files": [
                    {"split": s.name, "path": f"{folders.get(config.name, config.name)}/{s.name}-*"}
                    for s in config.splits
                    if s.files
                ],
            }
            for config in every
        ],
    )
    infos = {config.name: _config_info([s for s in config.splits if s.files], config.features) for config in every}
    DatasetInfosDict(infos).to_dataset_card_data(card)
    return card


def render_header(card: Any) -> str:
    """Returns the YAML front matter (between `---` lines) of a `DatasetCardData`."""
    return f"---\n{card.to_yaml()}\n---\n"
