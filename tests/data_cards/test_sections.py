import json

from data_cards.sections import (
    REDACTED,
    THEMIS_ARXIV,
    md_table,
    render_changes,
    render_citation,
    render_configuration,
    render_funnel,
    render_judge,
    render_licences,
    scrub_config,
)
from data_cards.stats import compute_stats, load_manifest
from tests.data_cards.conftest import SECRET_ENV, SECRET_URL


def test_md_table_formats_numbers_and_escapes_pipes():
    assert md_table(["a", "b"], [["x|y", 12345], [None, 0.5]]) == (
        "| a | b |\n|---|---|\n| x\\|y | 12,345 |\n| – | 0.500 |"
    )


def test_scrub_config_drops_endpoint_urls_key_names_and_token_values():
    config = {
        "llm": {"endpoints": [{"name": "e", "base_url": SECRET_URL, "api_key_env": SECRET_ENV, "model": "m"}]},
        "hub_token": "x",
        "OPENAI_API_KEY": "x",
        "password": "x",
        "note": "sk-abcdefghijklmnopqrstuvwx",
        "mirror": "https://user:pw@example.org/data",
        "filters": {"secrets": True, "length": {"max_tokens": 4096}},
    }
    assert scrub_config(config) == {
        "llm": {"endpoints": [{"name": "e", "model": "m"}]},
        "hub_token": "x",
        "note": REDACTED,
        "mirror": "https://example.org/data",
        "filters": {"secrets": True, "length": {"max_tokens": 4096}},
    }


def test_configuration_section_has_no_secrets(run_dir):
    text = render_configuration(load_manifest(run_dir))
    assert SECRET_URL not in text and "llm.internal.example" not in text and SECRET_ENV not in text
    assert "judge-model-7b" in text and "org/secure-code" in text and "`cfg1`" in text


def test_funnel_lists_every_stage_and_flags_unbalanced_ones(run_dir):
    manifest = load_manifest(run_dir)
    text = render_funnel(manifest, "images/funnel.png")
    assert "| read_secure | 4 | 2 | 2 | secret 1, too_long 1 |" in text
    assert "Every stage balances" in text and "(3 rows in 2 stage folders)" in text
    assert "| judge_pairs | 8 | 2 | 1 | 1 | 4,000 | 300 | 0.01 |" in text
    manifest["stages"][0]["in"] = 9
    assert "read_commits: in 9 != out + rejected 3" in render_funnel(manifest, "images/funnel.png")


def test_judge_section_without_judged_pairs(run_dir):
    judge = compute_stats(run_dir).judge
    empty = type(judge)(0, {k: {} for k in judge.distribution}, {k: 0 for k in judge.totals}, None, None)
    assert "No pair in this release went through the pairwise LLM judge" in render_judge(empty, None)
    text = render_judge(judge, "images/judge_votes.png")
    assert "| agreement (matches / non-error votes) | 0.667 |" in text and "![Judge votes]" in text


def test_licences_section_explains_other(run_dir):
    text = render_licences(compute_stats(run_dir).licences, "other")
    assert "| bugged_instruct | not recorded | 2 |" in text and "`other`" in text
    assert "Every row carries the licence `mit`" in render_licences({("s", "mit"): 2}, "mit")


def test_changes_first_version_and_against_a_previous_manifest(run_dir):
    manifest = load_manifest(run_dir)
    stats = compute_stats(run_dir, manifest)
    assert render_changes(stats, manifest, "v1", None, None) == "This is version v1, the first version of this dataset."
    previous = {
        "config_id": "old0",
        "outputs": {"train": {"rows": 3}, "validation": {"rows": 2}, "test": {"rows": 4}},
        "composition": [
            {"split": "train", "source": "commits", "aspect": "x", "language": "y", "rows": 4},
            {"split": "train", "source": "gone", "aspect": "x", "language": "y", "rows": 5},
        ],
    }
    text = render_changes(stats, manifest, "v2", previous, "v1")
    for line in (
        "| train | 3 | 5 | +2 |",
        "| validation | 2 | 1 | -1 |",
        "| test | 4 | – | removed |",
        "| total | 9 | 6 | -3 |",
        "| commits | 4 | 2 | -2 |",
        "| gone | 5 | – | removed |",
        "| secure | – | 2 | new |",
        "| bugged_instruct | – | 2 | new |",
        "`old0` → `cfg1`",
    ):
        assert line in text, line
    without = render_changes(stats, manifest, "v2", {k: v for k, v in previous.items() if k != "composition"}, None)
    assert "cannot be compared" in without and "the previous version" in without


def test_citation_cites_the_release_and_themis():
    text = render_citation("org/code-pref", "v1.2.0")
    assert "@misc{org_code_pref," in text and "version      = {v1.2.0}" in text
    assert f"eprint        = {{{THEMIS_ARXIV}}}" in text and "archivePrefix = {arXiv}" in text
    assert json.dumps(text)  # plain text, no template markers left
    assert "[[" not in text
