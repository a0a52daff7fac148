import os
import random

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that

from transforms.spill import (
    DeleteSpill,
    RunIndex,
    Slice,
    SpillRuns,
    TempLocationError,
    check_temp_location,
    read_slices,
    shares_local_disk,
    spill_directory,
)


def items(n, seed=0):
    rng = random.Random(seed)
    return [(rng.randrange(20), f"k{rng.randrange(50):02d}", os.urandom(rng.randrange(1, 40))) for _ in range(n)]


def test_run_index_slices_cover_each_group_once():
    run = RunIndex("r", (0, 3, 4, 9, 12), (0, 10, 20, 30, 40, 50))
    assert list(run.slices((4, 10))) == [(0, Slice("r", 0, 20)), (1, Slice("r", 20, 40)), (2, Slice("r", 40, 50))]
    assert list(run.slices(())) == [(0, Slice("r", 0, 50))]
    assert list(run.slices((1, 2, 3))) == [(0, Slice("r", 0, 10)), (3, Slice("r", 10, 50))]


def test_spilled_items_merge_back_sorted_whatever_the_run_size(tmp_path):
    data = items(500)
    for run_bytes in (300, 1 << 20):
        directory = str(tmp_path / f"runs{run_bytes}")
        with TestPipeline() as p:
            runs = p | beam.Create(data) | SpillRuns(directory, run_bytes)

            def check(indexes, run_bytes=run_bytes):
                assert (len(indexes) > 5) == (run_bytes == 300)
                bounds = (7, 15)
                groups: dict[int, list] = {}
                for index in indexes:
                    for group, part in index.slices(bounds):
                        groups.setdefault(group, []).append(part)
                merged = [list(read_slices(reversed(groups[g]))) for g in sorted(groups)]
                assert [x for part in merged for x in part] == sorted(data)
                assert all(b < 7 for b, _, _ in merged[0]) and all(b >= 15 for b, _, _ in merged[2])

            assert_that(runs, check)


def test_spill_directory_is_under_temp_location_and_deleted_when_done(tmp_path):
    p = beam.Pipeline(options=PipelineOptions(temp_location=str(tmp_path)))
    directory = spill_directory(p, "train")
    assert directory.startswith(str(tmp_path)) and directory != spill_directory(p, "train")
    with TestPipeline() as p:
        runs = p | beam.Create(items(50)) | SpillRuns(directory)
        _ = runs | DeleteSpill(directory)
    assert not os.path.exists(directory)


def test_only_runners_on_this_machine_may_spill_to_its_temp_folder():
    for runner in (
        None,
        "DirectRunner",
        "direct",
        "SwitchingDirectRunner",
        "BundleBasedDirectRunner",
        "FnApiRunner",
        "TestDirectRunner",
        "PrismRunner",
        "apache_beam.runners.direct.direct_runner.DirectRunner",
    ):
        assert shares_local_disk(runner, None), runner
    assert shares_local_disk("PortableRunner", "LOOPBACK") and shares_local_disk("FlinkRunner", "loopback")
    assert shares_local_disk("PrismRunner", "LOOPBACK")
    for runner, environment in (
        ("DataflowRunner", None),
        ("dataflow", None),
        ("PortableRunner", None),
        ("PortableRunner", "EXTERNAL"),
        ("PortableRunner", "DOCKER"),
        ("FlinkRunner", None),
        ("SparkRunner", "PROCESS"),
        ("PrismRunner", "DOCKER"),
        ("my.company.CustomRunner", None),
    ):
        assert not shares_local_disk(runner, environment), (runner, environment)


def test_a_remote_runner_without_temp_location_is_a_clear_error(tmp_path):
    for argv in (["--runner", "DataflowRunner"], ["--runner", "PortableRunner", "--environment_type", "EXTERNAL"]):
        with pytest.raises(TempLocationError, match=r"--temp_location gs://BUCKET/tmp") as info:
            check_temp_location(PipelineOptions(argv))
        assert argv[1] in str(info.value)
    check_temp_location(PipelineOptions(["--runner", "DataflowRunner", "--temp_location", "gs://b/tmp"]))
    check_temp_location(PipelineOptions(["--runner", "PortableRunner", "--environment_type", "LOOPBACK"]))
    check_temp_location(PipelineOptions([]))
    p = beam.Pipeline(options=PipelineOptions(["--runner", "PortableRunner"]))
    with pytest.raises(TempLocationError, match="--temp_location"):
        spill_directory(p, "train")  # the sink and dedup ask for their folder while the DAG is built
    p = beam.Pipeline(options=PipelineOptions(["--runner", "PortableRunner", "--temp_location", str(tmp_path)]))
    assert spill_directory(p, "train").startswith(str(tmp_path))
