import re
from pathlib import Path

import matplotlib.image

from data_cards.card import EXECUTION_IMAGE, IMAGES, render_card
from data_cards.execution import HEADING, has_bugged_instruct, operator_kill_rates, render_execution
from data_cards.plots import plot_kill_rates
from data_cards.stats import compute_stats, load_manifest
from tests.data_cards.conftest import SHARDS, write_run


def kill_row(language, operator, tried, killed, assertion=0, error=0, timeout=0):
    return {
        "language": language,
        "operator": operator,
        "tried": tried,
        "killed": killed,
        "survived": tried - killed,
        "killed_by": {"assertion": assertion, "error": error, "timeout": timeout},
    }


def execution_section(isolation="namespaces"):
    kill_rates = [
        kill_row("Python", "llm_bug", 2, 2, assertion=2),
        kill_row("C", "swap_operands", 4, 1, error=1),
        kill_row("C", "boundary_off_by_one", 5, 4, assertion=3, timeout=1),
        kill_row("Python", "boundary_off_by_one", 3, 2, assertion=1, error=1),
        kill_row("Python", "swap_operands", 4, 1, assertion=1),
    ]
    return {
        "verified": True,
        "isolation": isolation,
        "kill_rates": kill_rates,
        "totals": {
            "tried": 18,
            "killed": 10,
            "survived": 8,
            "killed_by": {"assertion": 7, "error": 2, "timeout": 1},
        },
    }


def with_execution(manifest):
    manifest["execution"] = execution_section()
    manifest["stages"].insert(
        2,
        {
            "name": "verify_by_execution",
            "in": 9,
            "out": 2,
            "rejected": {"no_tests": 1, "no_toolchain_csharp": 2, "solution_fails_tests": 1, "equivalent_mutant": 3},
        },
    )


WITHOUT_BUGGED = {
    split: [[r for r in rows if r["source"] != "bugged_instruct"] for rows in files] for split, files in SHARDS.items()
}


def card_text(run, out):
    return Path(render_card(run, str(out), "org/tiny-pref", "v1")).read_text(encoding="utf-8")


def test_verified_section_gives_totals_rejects_table_and_weak_operators(tmp_path):
    run = write_run(tmp_path / "run", manifest_edit=with_execution)
    manifest = load_manifest(run)
    text = render_execution(compute_stats(run, manifest), manifest, "images/kill_rates.png")
    assert "no network and a read-only filesystem except the run's own folder" in text
    assert "kept only when the solution passed and the bug failed" in text
    assert "Candidate bugs tried: **18**; killed (the tests failed): **10**; survived (the tests passed): **8**" in text
    assert "kill rate **55.6%**" in text
    assert "failed assertion 7, by an error 2, by a timeout 1." in text
    assert "The `verify_by_execution` stage kept 2 of 9 pairs" in text
    assert "| equivalent_mutant | 3 | every planted bug tried passed the tests" in text
    assert "| no_toolchain_csharp | 2 | no toolchain for `csharp` on the workers |" in text
    assert "| no_tests | 1 | the row has no tests |" in text
    table = re.findall(r"^\| (C|Python) \| (\w+) \| .*$", text, re.MULTILINE)
    assert table == [
        ("C", "boundary_off_by_one"),
        ("C", "swap_operands"),
        ("Python", "boundary_off_by_one"),
        ("Python", "llm_bug"),
        ("Python", "swap_operands"),
    ]
    assert "| C | boundary_off_by_one | 5 | 4 | 1 | 80.0% |" in text
    assert "| Python | swap_operands | 4 | 1 | 3 | 25.0% |" in text
    # swap_operands: 6 of 8 survived over both languages, the highest share.
    assert "The weakest operator is `swap_operands`, whose bugs most often survived the tests: 75.0%" in text
    assert "6 of 8 for `swap_operands`" in text and "![Kill rate per operator](images/kill_rates.png)" in text


def test_ties_name_every_weak_operator_and_no_survivor_names_none(run_dir):
    manifest, stats = load_manifest(run_dir), compute_stats(run_dir)
    manifest["execution"] = execution_section("guards only")
    manifest["execution"]["kill_rates"] = [
        kill_row("C", "a_op", 4, 2),
        kill_row("Go", "b_op", 2, 1),
        kill_row("Go", "c_op", 4, 3),
    ]
    text = render_execution(stats, manifest)
    assert "without network or filesystem isolation" in text and "![Kill rate" not in text
    assert "The weakest operators are `a_op` and `b_op`, whose bugs most often survived the tests: 50.0%" in text
    assert "(2 of 4 for `a_op`; 1 of 2 for `b_op`, all languages pooled)" in text
    assert "The manifest lists no `verify_by_execution` stage" in text
    for row in manifest["execution"]["kill_rates"]:
        row["killed"], row["survived"] = row["tried"], 0
    assert "weakest" not in render_execution(stats, manifest)


def test_operator_kill_rates_pool_languages():
    rates = operator_kill_rates(execution_section()["kill_rates"])
    assert [(r.operator, r.tried, r.killed, r.survived) for r in rates] == [
        ("boundary_off_by_one", 8, 6, 2),
        ("llm_bug", 2, 2, 0),
        ("swap_operands", 8, 2, 6),
    ]
    assert rates[2].survival_share == 0.75


def test_bugged_pairs_without_execution_get_the_not_verified_note(run_dir):
    manifest, stats = load_manifest(run_dir), compute_stats(run_dir)
    text = render_execution(stats, manifest)
    assert "were **not** verified by execution" in text and "no test checked" in text
    assert "`--test-column`" in text and "`sources.instructions.test_column`" in text
    del manifest["composition"]  # then the shards' sources tell
    assert render_execution(stats, manifest) == text


def test_no_bugged_pairs_no_section(tmp_path):
    run = write_run(tmp_path / "run", shards=WITHOUT_BUGGED)
    manifest, stats = load_manifest(run), compute_stats(run)
    assert not has_bugged_instruct(stats, manifest) and render_execution(stats, manifest) is None
    manifest["composition"].append(
        {"split": "train", "source": "bugged_instruct", "aspect": "x", "language": "C", "rows": 0}
    )
    assert render_execution(stats, manifest) is None
    del manifest["composition"]
    assert render_execution(stats, manifest) is None


def test_card_places_the_section_after_the_funnel_with_its_figure(tmp_path):
    out = tmp_path / "card"
    text = card_text(write_run(tmp_path / "run", manifest_edit=with_execution), out)
    assert text.index("## Filtering funnel") < text.index(HEADING) < text.index("## Judge agreement")
    assert "| 0.01 |\n\n" + HEADING + "\n\nThe bugged-instruct pairs" in text  # right after the funnel's LLM table
    assert f"![Kill rate per operator]({EXECUTION_IMAGE})" in text and "kill rate **55.6%**" in text
    image = matplotlib.image.imread(out / EXECUTION_IMAGE)
    assert image.ndim == 3 and image.shape[0] > 100


def test_card_notes_unverified_pairs_and_drops_a_stale_kill_rate_figure(run_dir, tmp_path):
    out = tmp_path / "card"
    (out / "images").mkdir(parents=True)
    (out / EXECUTION_IMAGE).write_bytes(b"stale")
    text = card_text(run_dir, out)
    assert HEADING in text and "were **not** verified by execution" in text
    assert not (out / EXECUTION_IMAGE).exists() and EXECUTION_IMAGE not in text


def test_card_without_bugged_pairs_has_no_section_and_no_gap(tmp_path):
    out = tmp_path / "card"
    text = card_text(write_run(tmp_path / "run", shards=WITHOUT_BUGGED), out)
    assert "Execution verification" not in text and "\n\n\n" not in text
    assert "| 0.01 |\n\n## Judge agreement\n\n" in text  # the funnel's LLM table, then the next section
    assert sorted(p.name for p in (out / "images").iterdir()) == sorted(Path(p).name for p in IMAGES.values())


def test_kill_rate_plot_is_deterministic(tmp_path):
    rates = operator_kill_rates(execution_section()["kill_rates"])
    first = plot_kill_rates(rates, str(tmp_path / "a.png"))
    second = plot_kill_rates(rates, str(tmp_path / "b.png"))
    assert Path(first).read_bytes() == Path(second).read_bytes()
    assert b"Software" not in Path(first).read_bytes()


def test_an_execution_section_where_no_bug_ran(run_dir):
    manifest, stats = load_manifest(run_dir), compute_stats(run_dir)
    empty = {"tried": 0, "killed": 0, "survived": 0, "killed_by": {"assertion": 0, "error": 0, "timeout": 0}}
    manifest["execution"] = {"verified": True, "isolation": "none ran", "kill_rates": [], "totals": empty}
    text = render_execution(stats, manifest)
    assert "no candidate bug reached one" in text and "kill rate **–**" in text
    assert "Kill rates per language" not in text and "weakest" not in text
