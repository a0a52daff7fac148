"""`codepref build` end to end: external datasets, an instruction set, the mix and the system column.

The LLM-free runs use real tree-sitter, lingua, detect-secrets, Beam and Parquet;
the commit runs use the deterministic fake endpoint of test_label.py, so a killed
and resumed build can be compared byte for byte with an uninterrupted one.
"""

import json
import os
import subprocess
import sys

import apache_beam as beam
import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from apache_beam.internal import pickler
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines import build
from schemas.build import load_build_config
from tests.pipelines.test_label import cached_digests, files, kill_midway, write_config
from tests.transforms.llm.chat_server import ChatServer
from transforms.manifest import check_conservation
from transforms.sources.instructions import SOURCE
from transforms.sources.preference import resolve_preset


DEMO = os.path.abspath("pipelines/demo")


def codenet_rows():
    rows = []
    for problem, user, times in (("p1", "u1", ["10", "80"]), ("p1", "u2", ["30", "35"]), ("p2", "u1", ["5", "90"])):
        for i, t in enumerate(times):
            rows.append(
                {
                    "s_id": f"s{problem}{user}{i}",
                    "p_id": problem,
                    "u_id": user,
                    "language": "Python",
                    "status": "Accepted",
                    "cpu_time": t,
                    "memory": "9000",
                    "code": f"import sys\n\n\ndef main():\n    n = int(sys.stdin.readline())\n"
                    f"    print(n * {i + 2} + len('{problem}{user}'))\n\n\nmain()\n",
                }
            )
    return rows


def write_build_config(root, **extra):
    pq.write_table(pa.Table.from_pylist(codenet_rows()), root / "codenet.parquet")
    config = {
        "sources": {
            "instructions": {"files": [f"{DEMO}/instructions.jsonl"]},
            "preference": [
                {
                    "name": "secure",
                    "preset": "cybernative-dpo",
                    "files": [f"{DEMO}/secure_code_dpo.jsonl"],
                    "license": "mit",
                },
                {"name": "codenet", "preset": "codenet", "files": ["codenet.parquet"], "license": "mit"},
            ],
        },
        "filters": {"split": {"validation_fraction": 0.2}},
        "mix": {"caps": {"secure": 4}},
        **extra,
    }
    path = root / "build.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def run_build(*args):
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "build", *args], capture_output=True, text=True, check=False
    )


def manifest_of(out):
    with open(os.path.join(out, "manifest.json")) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("build")
    config = write_build_config(root)
    done = run_build("--config", config, "--out", str(root / "out"))
    assert done.returncode == 0, done.stderr
    return root, config, manifest_of(root / "out")


def test_every_source_reaches_the_release_and_the_funnel_balances(built):
    root, _, manifest = built
    assert check_conservation(manifest) == []
    stages = {s["name"]: s for s in manifest["stages"]}
    assert {"read_instructions", "mutate", "read_secure", "read_codenet", "efficiency_codenet", "mix"} <= set(stages)
    assert stages["read_secure"]["out"] == 6 and stages["mix"]["rejected"] == {"source_cap": 2}
    assert stages["efficiency_codenet"] == {
        "name": "efficiency_codenet",
        "in": 6,
        "out": 4,
        "rejected": {"unpaired": 2},
    }  # u2's 30 vs 35 ms is no pair
    cells = manifest["composition"]
    assert {c["source"] for c in cells} == {"secure", "codenet", SOURCE}
    assert sum(c["rows"] for c in cells if c["source"] == "secure") == 4
    assert sum(c["rows"] for c in cells) == sum(v["rows"] for v in manifest["outputs"].values())
    assert manifest["config"]["BuildConfig"]["mix"]["caps"] == {"secure": 4}
    mix_rejects = [f for folder, v in manifest["rejects"].items() if "mix" in folder for f in v["files"]]
    assert mix_rejects and {r["reason"] for f in mix_rejects for r in pq.read_table(root / "out" / f).to_pylist()} == {
        "source_cap"
    }


def test_the_release_loads_with_system_prompts_and_licences(built):
    root, _, manifest = built
    ds = datasets.load_dataset("parquet", data_dir=str(root / "out" / "data"))
    assert {split: ds[split].num_rows for split in ds} == {k: v["rows"] for k, v in manifest["outputs"].items()}
    rows = [r for split in ds for r in ds[split]]
    efficiency = [r for r in rows if r["source"] == "codenet"]
    assert {ds["train"].features["aspect"].int2str(r["aspect"]) for r in efficiency} == {"Runtime Efficiency"}
    assert all(r["license"] == "mit" for r in rows if r["source"] in ("secure", "codenet"))
    systems = [r["system"] for r in rows]
    assert None in systems and any(s for s in systems)  # 15% none, the rest a criterion or all of them


def test_two_worker_processes_give_the_same_release(built, tmp_path):
    root, config, manifest = built
    done = run_build(
        "--config",
        config,
        "--out",
        str(tmp_path / "mp"),
        "--direct_num_workers=2",
        "--direct_running_mode=multi_processing",
    )
    assert done.returncode == 0, done.stderr
    assert files(tmp_path / "mp") == files(root / "out")
    assert manifest_of(tmp_path / "mp")["stages"] == manifest["stages"]


def test_print_config_shows_presets_resolved_and_the_id(built):
    _, config, _ = built
    done = run_build("--config", config, "--print-config")
    assert done.returncode == 0, done.stderr
    printed = yaml.safe_load(done.stdout)
    assert printed["sources"]["preference"][1]["efficiency"]["submitter"] == "u_id"
    assert f"# config id: {build.build_config_id(load_build_config(config))}" in done.stdout


def test_bad_configs_fail_with_the_field_named(tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text("sources: {preference: [{name: x, preset: codenet, files: [missing/*.parquet]}]}\n")
    done = run_build("--config", str(path), "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and "sources.preference.x.files" in done.stderr
    assert f"{tmp_path}/missing/*.parquet matched no file" in done.stderr
    path.write_text("sources: {preference: [{name: x, preset: codenet, files: [b.yaml]}]}\n")
    done = run_build("--config", str(path), "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and "give the licence" in done.stderr
    path.write_text("sources: {instructions: {files: [b.yaml]}}\ncode: {min_depth: 0}\n")
    done = run_build("--config", str(path), "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and "code: need min_depth >= 1" in done.stderr
    path.write_text("sources: {instructions: {files: [b.yaml]}}\nmine: {licences: [mit]}\n")
    done = run_build("--config", str(path), "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and "mine: " in done.stderr and "licences" in done.stderr


def test_mine_and_code_settings_read_like_the_flags(tmp_path):
    import argparse
    import datetime as dt

    from schemas.build import BuildConfig
    from schemas.errors import UsageError

    sources = {"instructions": {"files": ["x.jsonl"]}}
    cfg = BuildConfig(sources=sources, mine={"licenses": "MIT, Apache-2.0", "since": dt.date(2019, 3, 1)})
    mined = cfg.mine
    assert mined.licenses == ("mit", "apache-2.0") and mined.since == 1551398400
    assert BuildConfig(sources=sources, mine={"licenses": "themis"}).mine.licenses[0] == "mit"
    path = tmp_path / "b.yaml"
    path.write_text(yaml.safe_dump({"sources": sources, "code": {"operators": ["flip"]}}))
    with pytest.raises(UsageError, match="operators: unknown flip"):
        build.config_from_args(argparse.Namespace(config=str(path), print_config=True, out=None))


def commit_config(root, repo, llm_config):
    return write_build_config(
        root,
        sources={
            "repos": [repo],
            "preference": [
                {
                    "name": "secure",
                    "preset": "cybernative-dpo",
                    "files": [f"{DEMO}/secure_code_dpo.jsonl"],
                    "license": "mit",
                }
            ],
        },
        llm=llm_config,
    )


def test_the_whole_dag_translates_to_the_runner_api_and_every_fn_pickles(hostile_repo, tmp_path):
    llm = write_config(tmp_path / "llm.yaml", "http://127.0.0.1:9/v1", tmp_path / "cache.sqlite")
    cfg = load_build_config(commit_config(tmp_path, hostile_repo[0], llm))
    cfg = cfg.model_copy(
        update={
            "sources": cfg.sources.model_copy(
                update={"instructions": load_build_config(write_build_config(tmp_path)).sources.instructions}
            )
        }
    )
    p = beam.Pipeline(options=PipelineOptions(["--temp_location", str(tmp_path / "tmp")]))
    build.build(p, cfg, str(tmp_path / "out"), [resolve_preset(s) for s in cfg.sources.preference])
    proto = p.to_runner_api()
    assert beam.Pipeline.from_runner_api(proto, p.runner, p.options).to_runner_api() is not None
    fns = []

    class Visitor(beam.pipeline.PipelineVisitor):
        def visit_transform(self, node):
            transform = node.transform
            for fn in (getattr(transform, "fn", None), getattr(transform, "combine_fn", None)):
                if fn is not None:
                    fns.append((node.full_label, fn))

    p.visit(Visitor())
    assert len(fns) > 100
    for label, fn in fns:
        assert type(fn).__module__ != "__main__", label  # no save_main_session needed
        assert type(pickler.loads(pickler.dumps(fn))) is type(fn), label


def test_kill_and_resume_repeats_no_llm_call(hostile_repo, tmp_path):
    with ChatServer(delay_s=0.2) as server:  # requests one at a time: the kill lands midway
        llm = write_config(tmp_path / "llm.yaml", server.base_url, tmp_path / "cache.sqlite", concurrency=1)
        config = commit_config(tmp_path, hostile_repo[0], llm)
        args = [sys.executable, "-m", "pipelines.cli", "build", "--config", config, "--out", str(tmp_path / "out")]
        kill_midway(args, server)
        assert not (tmp_path / "out" / "manifest.json").exists()
        persisted = cached_digests(tmp_path / "cache.sqlite")
        assert persisted
        before = len(server.answered)
        done = run_build("--config", config, "--out", str(tmp_path / "out"))
        assert done.returncode == 0, done.stderr
        again = set(server.answered[before:])
    assert again and again.isdisjoint(persisted)
    with ChatServer() as fresh:
        clean_llm = write_config(tmp_path / "clean.yaml", fresh.base_url, tmp_path / "clean.sqlite")
        (tmp_path / "clean").mkdir()
        clean = commit_config(tmp_path / "clean", hostile_repo[0], clean_llm)
        done = run_build("--config", clean, "--out", str(tmp_path / "clean-out"))
        assert done.returncode == 0, done.stderr
    assert files(tmp_path / "out") == files(tmp_path / "clean-out")
    assert manifest_of(tmp_path / "out")["stages"] == manifest_of(tmp_path / "clean-out")["stages"]


def test_a_config_without_mine_or_code_keeps_the_id_and_dump_it_had():
    import hashlib

    from pipelines import label, runs
    from schemas.build import BuildConfig

    def old_id(dump, llm):  # pipelines.build.build_config_id before mine and code were typed
        blob = json.dumps({**dump, "llm": llm}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    llm = {"endpoints": [{"name": "a", "base_url": "http://x/v1", "model": "m"}]}
    for data in (
        {"sources": {"instructions": {"files": ["x.jsonl"]}}, "mix": {"caps": {"x": 1}}},
        {"sources": {"repos": ["r"]}, "llm": llm, "target_shard_mb": 8},
    ):
        cfg = BuildConfig.model_validate(data)
        # the sections were the file's raw mappings: {} when it has none
        old_dump = {**cfg.model_dump(mode="json", exclude={"mine", "code"}), "mine": {}, "code": {}}
        assert cfg.model_dump(mode="json") == old_dump
        assert runs.config_json(cfg) == {"BuildConfig": json.loads(json.dumps(old_dump))}
        identity = label.llm_identity(cfg.llm) if cfg.llm is not None else None
        assert build.build_config_id(cfg) == old_id(old_dump, identity)
    demo = load_build_config(f"{DEMO}/build.yaml")
    demo_dump = {**demo.model_dump(mode="json", exclude={"mine", "code"}), "mine": {}, "code": {}}
    assert build.build_config_id(demo) == old_id(demo_dump, label.llm_identity(demo.llm))


def test_the_system_column_is_made_of_the_principles_given(tmp_path):
    from schemas.principles import Principles

    criteria = ("Functional_Correctness", "Memory_Efficiency", "Readability_Maintainability", "Runtime_Efficiency")
    texts = {"base": "Judge the answer.", "criteria": {name: f"{name} wins." for name in criteria}}
    texts["criteria"]["Security_Hardness"] = "Safe code wins."
    (tmp_path / "texts.yaml").write_text(yaml.safe_dump(texts))
    source = {"name": "secure", "preset": "cybernative-dpo", "license": "mit"}
    source["files"] = [f"{DEMO}/secure_code_dpo.jsonl"]
    config = {"sources": {"preference": [source]}, "system": {"none": 0.0, "single": 1.0, "all": 0.0}}
    (tmp_path / "build.yaml").write_text(yaml.safe_dump(config))
    args = ["--config", str(tmp_path / "build.yaml"), "--principles", str(tmp_path / "texts.yaml")]
    done = run_build(*args, "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    manifest = manifest_of(tmp_path / "out")
    rows = [
        row
        for name in files(tmp_path / "out" / "data")
        for row in pq.read_table(tmp_path / "out" / "data" / name).to_pylist()
    ]
    assert rows and {row["system"] for row in rows} == {"Judge the answer.\n\n3. Safe code wins."}  # Security Hardness
    recorded = manifest["config"]["BuildConfig"]["system"]["principles"]
    assert Principles.model_validate(recorded) == Principles.model_validate(texts)
    default = run_build("--config", str(tmp_path / "build.yaml"), "--print-config")
    assert default.returncode == 0 and "# config id: " in default.stdout
    assert f"# config id: {manifest['config_id']}" not in default.stdout  # other texts, another release
    missing = run_build(*args[:2], "--principles", "absent.yaml", "--out", str(tmp_path / "o2"))
    assert missing.returncode == 2 and "--principles absent.yaml: no such file" in missing.stderr
    assert "Traceback" not in missing.stderr
