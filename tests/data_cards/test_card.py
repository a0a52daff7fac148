import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import datasets
import matplotlib.image
import pytest
import yaml
from huggingface_hub import DatasetCard

from data_cards.card import IMAGES, fill_template, load_template, render_card
from schemas.labels import ASPECTS, LANGUAGES
from tests.data_cards.conftest import SECRET_ENV, SECRET_URL, SHARDS, write_run


SECTIONS = (
    "## Composition",
    "## Filtering funnel",
    "## Judge agreement",
    "## Length distributions",
    "## Licences",
    "## How to load",
    "## Version and changes",
    "## Configuration",
    "## Citation",
)
IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(([^)]+)\)")


def folder_bytes(root):
    return {
        os.path.relpath(os.path.join(d, f), root): Path(os.path.join(d, f)).read_bytes()
        for d, _, names in os.walk(root)
        for f in names
    }


def test_the_card_parses_on_the_hub_side_with_labels_and_split_counts(run_dir, tmp_path):
    path = render_card(run_dir, str(tmp_path / "card"), "org/tiny-pref", "v1.0.0")
    assert path == str(tmp_path / "card" / "README.md")
    card = DatasetCard.load(path)
    info = card.data.dataset_info
    features = {f["name"]: f["dtype"] for f in info["features"]}
    assert features["language"] == {"class_label": {"names": {str(i): n for i, n in enumerate(LANGUAGES)}}}
    assert features["aspect"] == {"class_label": {"names": {str(i): n for i, n in enumerate(ASPECTS)}}}
    assert [(s["name"], s["num_examples"]) for s in info["splits"]] == [("train", 5), ("validation", 1)]
    assert info["download_size"] > 0 and info["dataset_size"] == sum(s["num_bytes"] for s in info["splits"])
    assert card.data.license == "other" and card.data.size_categories == ["n<1K"]
    assert card.data.pretty_name == "tiny-pref" and "preference" in card.data.tags
    assert "reward-modeling" in card.data.tags and not {"dpo", "trl"} & set(card.data.tags)
    assert card.data.configs[0]["data_files"][0] == {"split": "train", "path": "data/train-*"}


def test_every_section_is_there_and_every_figure_exists(run_dir, tmp_path):
    out = tmp_path / "card"
    text = Path(render_card(run_dir, str(out), "org/tiny-pref", "v1.0.0")).read_text(encoding="utf-8")
    positions = [text.index(heading) for heading in SECTIONS]
    assert positions == sorted(positions)
    links = IMAGE_LINK.findall(text)
    assert sorted(links) == sorted(IMAGES.values())
    for link in links:
        image = matplotlib.image.imread(out / link)
        assert image.ndim == 3 and image.shape[0] > 100
    assert 'load_dataset("org/tiny-pref")' in text and "| 7 | C# |" in text
    loading = text[text.index("## How to load") : text.index("## Version and changes")]
    assert loading.index('load_dataset("org/tiny-pref")') < loading.index("codepref export RUN --format trl --out DIR")
    assert 'train_dataset=ds["train"]' in loading and "so TRL would train on the code alone" in loading
    assert "This is version v1.0.0, the first version of this dataset." in text
    assert "[[" not in text


def test_no_endpoint_url_or_key_variable_reaches_the_card(run_dir, tmp_path):
    text = Path(render_card(run_dir, str(tmp_path / "card"), "org/tiny-pref", "v1.0.0")).read_text(encoding="utf-8")
    assert SECRET_URL not in text and "llm.internal.example" not in text and SECRET_ENV not in text
    assert "base_url" not in text and "api_key" not in text


def test_two_renders_are_byte_identical(run_dir, tmp_path):
    render_card(run_dir, str(tmp_path / "a"), "org/tiny-pref", "v1.0.0")
    render_card(run_dir, str(tmp_path / "b"), "org/tiny-pref", "v1.0.0")
    first, second = folder_bytes(tmp_path / "a"), folder_bytes(tmp_path / "b")
    assert sorted(first) == sorted(["README.md", *IMAGES.values()])
    assert first == second


def test_changes_against_a_previous_release_folder_or_manifest(run_dir, tmp_path):
    def older(manifest):  # only the previous manifest is read, never its shards
        manifest["config_id"] = "old0"
        manifest["outputs"]["train"]["rows"] = 3

    previous = write_run(tmp_path / "previous", manifest_edit=older)
    for given in (
        previous,
        os.path.join(previous, "manifest.json"),
        json.loads(Path(previous, "manifest.json").read_text()),
    ):
        readme = render_card(run_dir, str(tmp_path / "card"), "org/tiny-pref", "v1.1.0", given, "v1.0.0")
        text = Path(readme).read_text(encoding="utf-8")
        assert "Version v1.1.0, compared with v1.0.0." in text and "`old0` → `cfg1`" in text
        assert "| train | 3 | 5 | +2 |" in text and "| validation | 1 | 1 | +0 |" in text
        assert "| commits | 2 | 2 | +0 |" in text


def test_a_release_without_judged_pairs_has_no_judge_figure(tmp_path):
    unjudged = {
        split: [[{**r, "judge_matches": None} for r in rows] for rows in files] for split, files in SHARDS.items()
    }
    run = write_run(tmp_path / "run", shards=unjudged)
    out = tmp_path / "card"
    (out / "images").mkdir(parents=True)
    (out / IMAGES["judge"]).write_bytes(b"stale")
    text = Path(render_card(run, str(out), "org/tiny-pref", "v1")).read_text(encoding="utf-8")
    assert not (out / IMAGES["judge"]).exists() and IMAGES["judge"] not in text
    assert "No pair in this release went through the pairwise LLM judge" in text


def test_fill_template_refuses_missing_or_extra_sections():
    assert fill_template("a [[x]] b", {"x": "1"}) == "a 1 b"
    with pytest.raises(ValueError):
        fill_template("a [[x]] [[y]]", {"x": "1"})
    with pytest.raises(ValueError):
        fill_template("a [[x]]", {"x": "1", "y": "2"})
    assert "[[citation]]" in load_template()


def test_card_of_a_real_build_loads_with_datasets(tmp_path):
    source = {
        "name": "secure",
        "preset": "cybernative-dpo",
        "license": "mit",
        "files": [os.path.abspath("pipelines/demo/secure_code_dpo.jsonl")],
    }
    config = {"sources": {"preference": [source]}}
    (tmp_path / "build.yaml").write_text(yaml.safe_dump(config))
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "build", "--config", str(tmp_path / "build.yaml"), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    path = render_card(str(out), str(out), "org/secure", "v1")
    card = DatasetCard.load(path)
    assert card.data.license == "mit"  # one source, one licence
    written = {split: v["rows"] for split, v in manifest["outputs"].items() if v["files"]}
    assert {s["name"]: s["num_examples"] for s in card.data.dataset_info["splits"]} == written
    # `datasets` reads the card's configs and features, and recomputes the sizes the card states.
    builder = datasets.load_dataset_builder(str(out), cache_dir=str(tmp_path / "cache"))
    builder.download_and_prepare()
    for split in card.data.dataset_info["splits"]:
        computed = builder.info.splits[split["name"]]
        assert (computed.num_examples, computed.num_bytes) == (split["num_examples"], split["num_bytes"])
    assert builder.info.download_size == card.data.dataset_info["download_size"]
    ds = builder.as_dataset()
    assert ds["train"].features["aspect"].names == list(ASPECTS)
    assert {ds["train"].features["aspect"].int2str(a) for a in ds["train"]["aspect"]} == {"Security Hardness"}
    shutil.rmtree(tmp_path / "cache")
