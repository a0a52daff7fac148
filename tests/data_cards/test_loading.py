"""The card's loading section: `datasets`, the ClassLabel ids, and TRL through an export or the `trl` config."""

import re

from data_cards.loading import render_loading
from schemas.arrow import pair_features


def test_loading_shows_datasets_then_the_trl_recipe_through_an_export():
    text = render_loading("org/tiny-pref", pair_features(), "train")
    blocks = re.findall(r"```(\w+)\n(.*?)```", text, re.DOTALL)
    assert [language for language, _ in blocks] == ["python", "bash", "python"]
    (_, load), (_, export), (_, train) = blocks
    assert 'load_dataset("org/tiny-pref")' in load
    assert export.strip() == "codepref export RUN --format trl --out DIR"
    assert "from trl import RewardConfig, RewardTrainer" in train
    assert 'data_files={"train": "DIR/data/train-*.parquet"}' in train
    assert re.search(
        r"RewardTrainer\(\s*model=model,.*args=RewardConfig\(.*\),\s*train_dataset=ds\[\"train\"\],"
        r"\s*processing_class=tokenizer,\s*\)",
        train,
        re.DOTALL,
    )
    for snippet in (load, train):
        compile(snippet, "<card>", "exec")  # the card's Python is valid as written
    why = text[text.index("| 0 |") : text.index("```bash")]  # after the ClassLabel tables, before the export
    assert "its prompt column is `input`, so TRL would train on the code alone" in why
    assert "`DPOTrainer`" in text[text.index("```bash") :]


def test_loading_trains_on_the_split_it_is_given():
    train = render_loading("org/tiny-pref", pair_features(), "validation").split("```bash")[1]
    assert '{"validation": "DIR/data/validation-*.parquet"}' in train and 'train_dataset=ds["validation"]' in train


def _code_blocks(text):
    return re.findall(r"```(\w+)\n(.*?)```", text, re.DOTALL)


def test_loading_with_a_trl_config_loads_it_and_exports_nothing():
    text = render_loading("org/tiny-pref", pair_features(), "train", configs=["trl"])
    blocks = _code_blocks(text)
    assert [language for language, _ in blocks] == ["python", "python"]
    (_, load), (_, train) = blocks
    assert 'load_dataset("org/tiny-pref")' in load
    assert 'ds = load_dataset("org/tiny-pref", "trl")' in train and 'train_dataset=ds["train"]' in train
    assert "from trl import RewardConfig, RewardTrainer" in train
    for snippet in (load, train):
        compile(snippet, "<card>", "exec")
    assert "codepref export" not in text and "DIR/data" not in text
    table = text[text.index("| config |") : text.index("`language` and `aspect` are ClassLabels")]
    assert [row.split("|")[1].strip() for row in table.strip().splitlines()[2:]] == ["`default`", "`trl`"]
    assert "TRL's conversational layout" in table
    assert "`DPOTrainer`" in text[text.index(train) :]


def test_loading_without_configs_is_the_export_recipe():
    text = render_loading("org/tiny-pref", pair_features(), "train")
    assert render_loading("org/tiny-pref", pair_features(), "train", configs=()) == text
    assert [language for language, _ in _code_blocks(text)] == ["python", "bash", "python"]
    assert "```bash\ncodepref export RUN --format trl --out DIR\n```" in text
    assert "| config |" not in text and '"trl")' not in text


def test_loading_with_only_a_themis_config_still_exports_for_trl():
    text = render_loading("org/tiny-pref", pair_features(), "validation", configs=["themis"])
    assert "| `themis` |" in text and "| `trl` |" not in text
    assert "codepref export RUN --format trl --out DIR" in text and 'train_dataset=ds["validation"]' in text
