"""`codepref export`: a run's shards in TRL's conversational layout or the Themis columns, checked row by row."""

import json
import os
import subprocess
import sys

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard

from pipelines import export
from schemas.arrow import TRL_FOLDED_COLUMNS, TRL_MESSAGE_COLUMNS, pair_schema, trl_schema
from schemas.labels import ASPECTS, LANGUAGES
from schemas.pair_columns import PAIR_COLUMNS, THEMIS_COLUMNS
from schemas.runs import ExportRun
from tests.conftest import cli_error
from tests.data_cards.conftest import pair, write_run


SYSTEM = "Judge the responses by their security."


def with_system(row, system):
    return {**row, "system": system}


SHARDS = {
    "train": [
        [
            with_system(pair("r0", "commits", "Security Hardness", "Python", "mit", judge=(2, 0, 0, 0)), SYSTEM),
            pair("r1", "commits", "Runtime Efficiency", "Go", "apache-2.0", prompt="Speed up the loop"),
            with_system(pair("r2", "bugged_instruct", "Functional Correctness", "C", None), ""),
        ],
        [],  # the sink writes every shard of a split, an empty one too
        [
            pair("r3", "bugged_instruct", "Functional Correctness", "C#", None, prompt=""),
            with_system(pair("r4", "secure", "Security Hardness", "JavaScript", "mit"), SYSTEM + " And speed."),
        ],
    ],
    "validation": [[with_system(pair("v0", "secure", "Security Hardness", "Java", "mit"), SYSTEM)]],
    "test": [],  # a split with no rows: no file
}


@pytest.fixture
def run_dir(tmp_path):
    return write_run(tmp_path / "run", SHARDS)


def export_run(run_dir, out, fmt="trl", *extra):
    from pipelines import cli

    return cli.main(["export", str(run_dir), "--format", fmt, "--out", str(out), "--batch-rows", "2", *extra])


def source_files(run_dir):
    with open(os.path.join(run_dir, "manifest.json")) as f:
        manifest = json.load(f)
    return {split: info["files"] for split, info in manifest["outputs"].items()}


def rows_of(root, name):
    return pq.read_table(os.path.join(root, name)).to_pylist()


def expected_prompt(row):
    system = [] if row["system"] is None else [{"role": "system", "content": row["system"]}]
    return [*system, {"role": "user", "content": row["input"]}]


def test_trl_keeps_the_files_rows_and_order_with_messages_and_provenance(run_dir, tmp_path, capsys):
    out = tmp_path / "trl"
    assert export_run(run_dir, out) == 0
    std = capsys.readouterr()
    assert std.out.strip() == str(out)
    assert std.err.splitlines() == [
        f"codepref export: train: 5 rows in 3 file(s) to {out}/data",
        f"codepref export: validation: 1 rows in 1 file(s) to {out}/data",
        f"codepref export: test: 0 rows in 0 file(s) to {out}/data",
    ]
    files = source_files(run_dir)
    assert sorted(os.listdir(out / "data")) == sorted(os.path.basename(f) for names in files.values() for f in names)
    provenance = [c.name for c in PAIR_COLUMNS if c.name not in TRL_FOLDED_COLUMNS]
    prompts_with_system = 0
    for name in [f for names in files.values() for f in names]:
        source, exported = rows_of(run_dir, name), rows_of(out, name)
        assert [r["idx"] for r in exported] == [r["idx"] for r in source]
        assert pq.read_schema(out / name) == trl_schema()
        for before, after in zip(source, exported, strict=True):
            assert list(after) == [*TRL_MESSAGE_COLUMNS, *provenance]
            assert after["prompt"] == expected_prompt(before)
            assert after["chosen"] == [{"role": "assistant", "content": before["chosen"]}]
            assert after["rejected"] == [{"role": "assistant", "content": before["rejected"]}]
            assert {c: after[c] for c in provenance} == {c: before[c] for c in provenance}
            prompts_with_system += after["prompt"][0]["role"] == "system"
    assert prompts_with_system == 4  # r0, r2 (an empty system prompt is still one), r4, v0
    assert json.loads((out / "export.json").read_text()) == {
        "source_run": str(run_dir),
        "config_id": "cfg1",
        "format": "trl",
        "columns": [*TRL_MESSAGE_COLUMNS, *provenance],
        "splits": {
            "train": {"rows": 5, "files": files["train"]},
            "validation": {"rows": 1, "files": files["validation"]},
            "test": {"rows": 0, "files": []},
        },
    }


def test_datasets_loads_the_export_with_class_labels_and_its_card(run_dir, tmp_path):
    out = tmp_path / "trl"
    export_run(run_dir, out)
    pattern = {"train": str(out / "data" / "train-*.parquet"), "validation": str(out / "data" / "validation-*.parquet")}
    ds = datasets.load_dataset("parquet", data_files=pattern)
    assert ds["train"].num_rows == 5 and ds["validation"].num_rows == 1
    features = ds["train"].features
    assert features["language"] == datasets.ClassLabel(names=list(LANGUAGES))
    assert features["aspect"] == datasets.ClassLabel(names=list(ASPECTS))
    assert features["language"].int2str(ds["train"][3]["language"]) == "C#"
    assert ds["validation"][0]["prompt"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Fix the query"},
    ]
    by_card = datasets.load_dataset(str(out))  # the card's `configs` and `dataset_info`
    assert {split: d.num_rows for split, d in by_card.items()} == {"train": 5, "validation": 1}
    assert by_card["train"].features == features
    card = DatasetCard.load(str(out / "README.md"))
    assert card.data.configs == [
        {
            "config_name": "default",
            "data_files": [
                {"split": "train", "path": "data/train-*"},
                {"split": "validation", "path": "data/validation-*"},
            ],
        }
    ]
    assert {"trl", "preference", "codepref"} <= set(card.data.tags) and card.data.license == "other"
    assert [(s["name"], s["num_examples"]) for s in card.data.dataset_info["splits"]] == [
        ("train", 5),
        ("validation", 1),
    ]
    text = card.text
    assert "`cfg1`" in text and "| train | 5 | 3 |" in text and "| test | 0 | 0 |" in text
    assert 'data_files={"train": "data/train-*.parquet", "validation": "data/validation-*.parquet"}' in text
    assert "RewardTrainer(model=model" in text and "DPOTrainer" in text
    assert "- provenance: `language`, `aspect`, `source`, `idx`, " in text and "`prompt`, " not in text


def test_themis_keeps_the_themis_columns_only(run_dir, tmp_path):
    out = tmp_path / "themis"
    assert export_run(run_dir, out, "themis") == 0
    for name in [f for names in source_files(run_dir).values() for f in names]:
        source, exported = rows_of(run_dir, name), rows_of(out, name)
        assert exported == [{c: row[c] for c in THEMIS_COLUMNS} for row in source]
    ds = datasets.load_dataset(str(out))
    assert list(ds["train"].features) == list(THEMIS_COLUMNS)
    assert ds["train"].features["aspect"] == datasets.ClassLabel(names=list(ASPECTS))
    assert json.loads((out / "export.json").read_text())["format"] == "themis"
    card = (out / "README.md").read_text()
    assert "codepref train --data DIR" in card and "- " + ", ".join(f"`{c}`" for c in THEMIS_COLUMNS) + ";" in card


def test_dpo_is_the_trl_layout(run_dir, tmp_path):
    export_run(run_dir, tmp_path / "trl")
    export_run(run_dir, tmp_path / "dpo", "dpo")
    assert json.loads((tmp_path / "dpo" / "export.json").read_text())["format"] == "trl"
    for name in os.listdir(tmp_path / "trl" / "data"):
        assert (tmp_path / "dpo" / "data" / name).read_bytes() == (tmp_path / "trl" / "data" / name).read_bytes()


def test_a_shard_with_another_label_order_is_relabelled_by_name(tmp_path):
    run_dir = write_run(tmp_path / "run", {"train": [[pair("r0", "commits", "Runtime Efficiency", "Go", "mit")]]})
    path = os.path.join(run_dir, "data", "train-00000-of-00001.parquet")
    meta = json.loads(pair_schema().metadata[b"huggingface"])
    meta["info"]["features"]["language"]["names"] = list(reversed(LANGUAGES))
    older = pair_schema().with_metadata({b"huggingface": json.dumps(meta).encode()})
    row = {**pair("r0", "commits", "Runtime Efficiency", "Go", "mit"), "language": LANGUAGES[::-1].index("Go")}
    pq.write_table(pa.Table.from_pylist([row], schema=older), path)
    export_run(run_dir, tmp_path / "out")
    assert rows_of(tmp_path / "out", "data/train-00000-of-00001.parquet")[0]["language"] == LANGUAGES.index("Go")


def test_messages_of_an_empty_batch_and_of_one_without_system_prompts():
    assert export.prompt_messages(pa.array([], pa.large_string()), pa.array([], pa.large_string())).to_pylist() == []
    nulls = export.prompt_messages(pa.nulls(2, pa.large_string()), pa.array(["a", "b"], pa.large_string()))
    assert nulls.to_pylist() == [[{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}]]


def test_the_trl_schema_is_the_pair_declaration_in_messages():
    names = {c.name for c in PAIR_COLUMNS}
    assert set(TRL_FOLDED_COLUMNS) <= names
    assert trl_schema().names == [
        *TRL_MESSAGE_COLUMNS,
        *(c.name for c in PAIR_COLUMNS if c.name not in TRL_FOLDED_COLUMNS),
    ]


def test_refusals_name_the_flag_and_write_nothing(run_dir, tmp_path, capsys):
    code, err = cli_error(["export", str(tmp_path), "--out", str(tmp_path / "x")], capsys)
    assert code == 2 and "holds no manifest.json" in err and not (tmp_path / "x").exists()
    code, err = cli_error(["export", run_dir, "--out", run_dir], capsys)
    assert code == 2 and "--out" in err and "is the run folder" in err
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    code, err = cli_error(["export", run_dir, "--out", str(busy)], capsys)
    assert code == 2 and "is not empty; pass --overwrite" in err and os.listdir(busy) == ["notes.txt"]
    code, err = cli_error(["export", run_dir, "--out", str(tmp_path / "y"), "--no-such-flag"], capsys)
    assert code == 2 and "unknown arguments --no-such-flag" in err
    name = source_files(run_dir)["validation"][0]
    os.remove(os.path.join(run_dir, name))
    code, err = cli_error(["export", run_dir, "--out", str(tmp_path / "z")], capsys)
    assert code == 2 and f"{name}: manifest.json lists it, but it is missing" in err and not (tmp_path / "z").exists()


def test_overwrite_replaces_an_export_and_keeps_other_files(run_dir, tmp_path, capsys):
    out = tmp_path / "out"
    export_run(run_dir, out)
    stale = out / "data" / "train-00000-of-00009.parquet"
    stale.write_bytes(b"an earlier export's shard")
    (out / "notes.txt").write_text("mine")
    assert export_run(run_dir, out, "themis", "--overwrite") == 0
    assert not stale.exists() and (out / "notes.txt").read_text() == "mine"
    assert pq.read_schema(out / source_files(run_dir)["train"][0]).names == list(THEMIS_COLUMNS)
    other_run = write_run(tmp_path / "other", SHARDS)
    code, err = cli_error(["export", run_dir, "--out", other_run, "--overwrite"], capsys)
    assert code == 2 and "holds a codepref run (manifest.json)" in err
    assert sorted(os.listdir(os.path.join(other_run, "data"))) == sorted(os.listdir(os.path.join(run_dir, "data")))


def test_the_config_is_frozen_and_checked():
    cfg = ExportRun(run="/r", out="/o")
    assert cfg.format == "trl" and cfg.batch_rows == 1000 and not cfg.overwrite
    with pytest.raises(ValueError):
        ExportRun(run="/r", out="/o", format="dpo")


@pytest.fixture(scope="module")
def mutated(tmp_path_factory):
    root = tmp_path_factory.mktemp("mutate")
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "mutate", "--input", "pipelines/demo/instructions.jsonl"]
        + ["--out", str(root / "run")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return root


def test_a_real_mutate_run_exports_through_the_command_line(mutated):
    cli = [sys.executable, "-m", "pipelines.cli", "export"]
    helped = subprocess.run([*cli, "--help"], capture_output=True, text=True, check=False)
    assert helped.returncode == 0 and "--format {trl,dpo,themis}" in helped.stdout and "--overwrite" in helped.stdout
    out = mutated / "trl"
    done = subprocess.run([*cli, str(mutated / "run"), "--out", str(out)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out) and "codepref export: train: " in done.stderr
    source = datasets.load_dataset("parquet", data_files=str(mutated / "run" / "data" / "train-*.parquet"))["train"]
    exported = datasets.load_dataset(str(out))["train"]
    assert exported["idx"] == source["idx"] and exported.features["language"] == source.features["language"]
    for before, after in zip(source, exported, strict=True):
        assert after["prompt"] == expected_prompt(before)
        assert after["chosen"][0]["content"] == before["chosen"] and after["aspect"] == before["aspect"]
