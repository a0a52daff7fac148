"""Smoke test of the GPU throughput benchmark on CPU (`--tiny`)."""

import json
import pathlib
import subprocess
import sys


def test_gpu_throughput_tiny_runs_on_cpu():
    script = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_throughput.py"
    out = subprocess.run(
        [sys.executable, str(script), "--tiny", "--peak-flops", "1e12"],
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,  # only a hang ends it: a slow machine is not a failure
    )
    lines = out.stdout.strip().splitlines()
    result = json.loads(lines[0])
    assert result["tiny"] and result["seq_len"] == 128 and result["steps"] == 2
    assert result["tokens_per_s"] > 0 and 0 < result["mfu"] < 1
    assert result["peak_flops"] == 1e12
    assert lines[-1].startswith("| cpu |")
