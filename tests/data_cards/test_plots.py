from pathlib import Path

import matplotlib.image
import pytest

from data_cards.plots import plot_funnel, plot_heatmap, plot_judge_votes, plot_lengths
from data_cards.stats import compute_stats, load_manifest
from schemas.labels import ASPECTS, LANGUAGES


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def draw_all(run_dir, folder):
    stats, manifest = compute_stats(run_dir), load_manifest(run_dir)
    folder.mkdir(exist_ok=True)
    return [
        plot_heatmap(stats.composition, ASPECTS, LANGUAGES, str(folder / "heatmap.png")),
        plot_lengths(stats.lengths, str(folder / "lengths.png")),
        plot_judge_votes(stats.judge, str(folder / "judge.png")),
        plot_funnel(manifest["stages"], str(folder / "funnel.png")),
    ]


def test_every_plot_is_a_valid_png_without_software_metadata(run_dir, tmp_path):
    for path in draw_all(run_dir, tmp_path / "a"):
        data = Path(path).read_bytes()
        assert data.startswith(PNG_MAGIC)
        assert b"matplotlib" not in data.lower() and b"Software" not in data
        image = matplotlib.image.imread(path)
        assert image.shape[0] > 100 and image.shape[1] > 100


def test_the_same_statistics_give_identical_bytes(run_dir, tmp_path):
    first, second = draw_all(run_dir, tmp_path / "a"), draw_all(run_dir, tmp_path / "b")
    for a, b in zip(first, second, strict=True):
        assert Path(a).read_bytes() == Path(b).read_bytes(), a


@pytest.mark.parametrize("composition", [{}, {("train", "s", "Not A Criterion", "Python"): 3}])
def test_heatmap_draws_empty_and_unknown_cells(tmp_path, composition):
    path = plot_heatmap(composition, ASPECTS, LANGUAGES, str(tmp_path / "h.png"))
    assert Path(path).read_bytes().startswith(PNG_MAGIC)


def test_funnel_without_rejects(tmp_path):
    stages = [{"name": "read", "in": 3, "out": 3, "rejected": {}}]
    assert Path(plot_funnel(stages, str(tmp_path / "f.png"))).read_bytes().startswith(PNG_MAGIC)
