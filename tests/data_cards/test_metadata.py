import datasets
import pytest
import yaml

from data_cards.metadata import TASK_CATEGORIES, card_license, card_metadata, render_header, size_category
from data_cards.stats import compute_stats, load_manifest, read_features
from pipelines import export
from schemas.arrow import pair_features
from schemas.labels import ASPECTS, LANGUAGES
from schemas.runs import ExportRun


@pytest.mark.parametrize(
    ("rows", "bucket"),
    [
        (0, "n<1K"),
        (999, "n<1K"),
        (1_000, "1K<n<10K"),
        (99_999, "10K<n<100K"),
        (354_010, "100K<n<1M"),
        (5_000_000, "1M<n<10M"),
        (2_000_000_000, "n>1B"),
    ],
)
def test_size_category_uses_the_hub_buckets(rows, bucket):
    assert size_category(rows) == bucket


def test_card_license_is_the_shared_licence_or_other():
    assert card_license({("a", "mit"): 3, ("b", "MIT"): 1}) == "mit"
    assert card_license({("a", "mit"): 3, ("b", "apache-2.0"): 1}) == "other"
    assert card_license({("a", "mit"): 3, ("b", None): 1}) == "other"
    assert card_license({("a", None): 3}) == "other"
    assert card_license({("a", "some-custom-licence"): 3}) == "other"
    assert card_license({}) == "other"


def test_header_round_trips_through_datasets(run_dir):
    manifest = load_manifest(run_dir)
    stats = compute_stats(run_dir, manifest)
    header = render_header(card_metadata(stats, read_features(run_dir, manifest), "Tiny"))
    assert header.startswith("---\n") and header.endswith("\n---\n")
    data = yaml.safe_load(header.strip().strip("-"))
    info = datasets.DatasetInfo._from_yaml_dict(data["dataset_info"])
    assert info.features == pair_features()
    assert info.features["language"].names == list(LANGUAGES) and info.features["aspect"].names == list(ASPECTS)
    assert {name: (s.num_examples, s.num_bytes) for name, s in info.splits.items()} == {
        s.name: (s.rows, s.num_bytes) for s in stats.splits
    }
    assert info.download_size == sum(s.download_size for s in stats.splits)
    assert info.dataset_size == sum(s.num_bytes for s in stats.splits)
    assert data["configs"] == [
        {
            "config_name": "default",
            "data_files": [
                {"split": "train", "path": "data/train-*"},
                {"split": "validation", "path": "data/validation-*"},
            ],
        }
    ]
    assert data["task_categories"] == list(TASK_CATEGORIES) and data["size_categories"] == ["n<1K"]
    assert data["tags"] == ["code", "preference", "reward-modeling", "rlhf", "codepref"]  # no dpo / trl: see TAGS
    assert data["license"] == "other" and data["pretty_name"] == "Tiny"


def test_splits_without_files_are_left_out(run_dir):
    manifest = load_manifest(run_dir)
    stats = compute_stats(run_dir, manifest)
    empty = type(stats.splits[0])("test", 0, 0, 0, ())
    stats = type(stats)(stats.splits + (empty,), stats.composition, stats.lengths, stats.judge, stats.licences)
    card = card_metadata(stats, read_features(run_dir, manifest), "Tiny")
    assert [s["name"] for s in card.dataset_info["splits"]] == ["train", "validation"]
    assert [f["split"] for f in card.configs[0]["data_files"]] == ["train", "validation"]


@pytest.mark.parametrize(("layout", "added"), [("trl", ["trl", "dpo"]), ("themis", [])])
def test_only_a_trl_export_is_tagged_for_trl_and_dpo(run_dir, tmp_path, layout, added):
    release = card_metadata(compute_stats(run_dir, load_manifest(run_dir)), pair_features(), "Tiny").tags
    export.run(ExportRun(run=run_dir, out=str(tmp_path / layout), format=layout))
    header = (tmp_path / layout / "README.md").read_text(encoding="utf-8").split("---\n")[1]
    assert yaml.safe_load(header)["tags"] == [*release, *added]
