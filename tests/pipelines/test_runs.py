"""The checks around a pipeline run name the caller's own flags; the CLI maps each error to its exit status."""

import subprocess

import pytest

from pipelines import cli, runs
from schemas.errors import (
    AuditError,
    EndpointError,
    LLMErrorShareError,
    ReleaseError,
    ServerError,
    UsageError,
)


def test_inputs_are_named_by_the_callers_flags(tmp_path):
    (tmp_path / "a.jsonl").write_text("{}\n")
    runs.check_inputs({"--input": [str(tmp_path / "*.jsonl")]})
    with pytest.raises(UsageError, match=r"^--previous old\*.jsonl: matched no file$"):
        runs.check_inputs({"--input": [str(tmp_path / "a.jsonl")], "--previous": ["old*.jsonl"]})
    with pytest.raises(UsageError, match=f"^--repo {tmp_path}/none: no such folder$"):
        runs.check_inputs({"--repo": [str(tmp_path / "none")], "--commits-file": []}, repos={"--repo"})
    with pytest.raises(UsageError, match=f"^--repo {tmp_path}: not a git repository"):
        runs.check_inputs({"--repo": [str(tmp_path)]}, repos={"--repo"})


def test_nothing_to_read_lists_the_callers_flags():
    with pytest.raises(UsageError, match=r"^nothing to read: pass --repo PATH or --commits-file GLOB$"):
        runs.check_inputs({"--repo": [], "--commits-file": []}, repos={"--repo"})
    three = r"^nothing to read: pass --repo PATH, --commits-file GLOB or --instructions GLOB$"
    with pytest.raises(UsageError, match=three):
        runs.check_inputs({"--repo": [], "--commits-file": [], "--instructions": []}, repos={"--repo"})


def test_a_repository_inside_a_config_is_named_by_its_key(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path / "r")], check=True)
    runs.check_repository(str(tmp_path / "r"), "--config b.yaml: sources.repos")
    with pytest.raises(UsageError, match=r"^--config b.yaml: sources.repos .*/none: no such folder$"):
        runs.check_repository(str(tmp_path / "none"), "--config b.yaml: sources.repos")


def test_an_output_folder_of_something_else_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="is not empty and holds no codepref run"):
        runs.prepare_output(str(tmp_path))
    assert runs.resolve_output("gs://b/out") == "gs://b/out" and runs.resolve_output("o").startswith("/")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (UsageError("u"), 2),
        (ReleaseError("r"), 2),
        (AuditError("a"), 2),
        (ServerError("s"), 2),
        (EndpointError("endpoint e: 401"), 3),
        (LLMErrorShareError(["rate_commits: 9 of 10"], {}), 4),
    ],
)
def test_each_kind_of_error_has_its_exit_status(error, status):
    assert cli.exit_status(error) == status


def test_the_cli_catches_every_codepref_error_once(tmp_path, capsys, monkeypatch):
    manifest = {"stages": [{"name": "rate_commits", "in": 10, "out": 1, "rejected": {"llm_error": 9}}], "outputs": {}}

    def fail(error):
        def run(cfg, out, beam_args):
            raise error

        return run

    monkeypatch.setattr(cli.mine, "config_from_args", lambda args: None)  # the run itself raises

    wrapped = RuntimeError("Traceback ...\nschemas.errors.EndpointError: endpoint e: 401 [while running 'X']")
    cases = [
        (AuditError("no audit.jsonl"), 2, "codepref mine: error: no audit.jsonl"),
        (EndpointError("endpoint e: 401 [while running 'X']"), 3, "codepref mine: error: endpoint e: 401"),
        (wrapped, 3, "codepref mine: error: endpoint e: 401"),  # as a worker's traceback arrives
        (LLMErrorShareError(["rate: 9"], manifest), 4, "codepref mine: error: rate: 9; the manifest is written"),
    ]
    for error, status, last in cases:
        monkeypatch.setattr(cli.mine, "run", fail(error))
        with pytest.raises(SystemExit) as done:
            cli.main(["mine", "--repo", "r", "--out", str(tmp_path / "o")])
        assert done.value.code == status
        assert capsys.readouterr().err.splitlines()[-1] == last
    monkeypatch.setattr(cli.mine, "run", fail(ValueError("a bug")))
    with pytest.raises(ValueError, match="a bug"):  # anything else keeps its traceback
        cli.main(["mine", "--repo", "r", "--out", str(tmp_path / "o")])
