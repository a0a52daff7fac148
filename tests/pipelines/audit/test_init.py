import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from pipelines.audit.sample import sample


def codepref(argv):
    """Runs `codepref ARGV` in-process; returns its exit status, an error's too (`--help` still exits)."""
    from pipelines import cli

    try:
        return cli.main(argv)
    except SystemExit as exc:
        if exc.code == 0:
            raise
        return exc.code


def test_sample_then_report(release, tmp_path, capsys):
    assert codepref(["audit", "sample", release, "--n", "10", "--stratify", "aspect,language", "--seed", "3"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == os.path.join(release, "audit")
    assert "10 of 81 pairs from 5 of 5 strata (aspect, language, seed 3)" in err
    png = str(tmp_path / "plot.png")
    assert codepref(["audit", "report", release, "--png", png]) == 0  # OUT means OUT/audit
    out, err = capsys.readouterr()
    assert "0 of 10 pairs reviewed" in out and "criterion" in out and os.path.exists(png)
    assert codepref(["audit", "report", os.path.join(release, "audit"), "--no-png"]) == 0
    assert not os.path.exists(os.path.join(release, "audit", "agreement.png"))


def test_errors_exit_2_with_a_message(release, tmp_path, capsys):
    assert codepref(["audit", "sample", str(tmp_path / "nothing")]) == 2
    assert "no data/*.parquet" in capsys.readouterr().err
    assert codepref(["audit", "sample", release, "--stratify", "colour"]) == 2
    assert "no column colour" in capsys.readouterr().err
    assert codepref(["audit", "report", str(tmp_path)]) == 2
    assert "run `codepref audit sample OUT` first" in capsys.readouterr().err
    assert codepref(["audit", "report", release, "--bogus"]) == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
    sample(release, 3)
    assert codepref(["audit", "serve", release, "--host", "0.0.0.0"]) == 2
    assert "refusing to serve" in capsys.readouterr().err


@pytest.mark.parametrize("step", ["sample", "serve", "report"])
def test_help(step, capsys):
    with pytest.raises(SystemExit) as exit_info:
        codepref(["audit", step, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: codepref audit {step}" in capsys.readouterr().out


def test_serve_prints_the_url_and_stops_on_ctrl_c(release):
    audit_dir = sample(release, 3).audit_dir
    code = (
        "import sys, argparse; from pipelines import audit; "
        "p = argparse.ArgumentParser(prog='codepref'); s = p.add_subparsers(dest='command', required=True); "
        "audit.add_subcommands(s); a, e = p.parse_known_args(sys.argv[1:]); sys.exit(a.func(a, e))"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "audit", "serve", audit_dir],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        with urllib.request.urlopen(url + "api/state", timeout=120) as response:
            assert b'"total": 3' in response.read()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0
        assert "stopped" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
