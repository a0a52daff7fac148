"""The algorithm configs: read where they are declared, frozen, worded for the caller, one config id."""

import datetime as dt
import json

import pydantic
import pytest

from schemas.config import (
    PERMISSIVE_LICENSES,
    THEMIS_LICENSES,
    CodeConfig,
    MineConfig,
    SyntaxConfig,
    config_id,
    config_problems,
)
from schemas.labels import MUTATION_OPERATORS
from tests.conftest import packages_loaded_by


@pytest.mark.parametrize(
    ("given", "licenses"),
    [
        ("permissive", PERMISSIVE_LICENSES),
        ("themis", THEMIS_LICENSES),
        ("MIT, Apache-2.0,", ("mit", "apache-2.0")),
        (["MIT", " isc "], ("mit", "isc")),
        (("zlib",), ("zlib",)),
    ],
)
def test_licences_are_a_preset_a_comma_string_or_a_list(given, licenses):
    assert MineConfig(licenses=given).licenses == licenses
    assert MineConfig().licenses == PERMISSIVE_LICENSES


def test_no_licence_is_an_error():
    for empty in ((), "", " , "):
        with pytest.raises(ValueError, match="at least one licence"):
            MineConfig(licenses=empty)


@pytest.mark.parametrize(
    ("given", "unix"),
    [
        (1551398400, 1551398400),
        (dt.date(2019, 3, 1), 1551398400),
        ("2019-03-01", 1551398400),
        ("2019-03-01T00:00:00", 1551398400),  # UTC unless it says otherwise
        ("2019-03-01T02:00:00+02:00", 1551398400),
        (dt.datetime(2019, 3, 1, tzinfo=dt.UTC), 1551398400),
        (None, None),
        ("", None),
    ],
)
def test_dates_are_a_unix_time_a_date_or_an_iso_time(given, unix):
    assert MineConfig(since=given).since == unix
    assert MineConfig(until=given).until == unix


def test_a_bad_date_or_window_is_an_error():
    with pytest.raises(ValueError, match=r"'2019-13-01' is not a date; use YYYY-MM-DD"):
        MineConfig(since="2019-13-01")
    with pytest.raises(ValueError, match="since must be before until"):
        MineConfig(since="2020-01-01", until="2019-01-01")


def test_the_allowlist_is_a_frozenset_dumped_sorted():
    cfg = MineConfig(allowlist=["b/y", "a/x", "c/z"])
    assert cfg.allowlist == frozenset({"a/x", "b/y", "c/z"})
    assert cfg.model_dump(mode="json")["allowlist"] == ["a/x", "b/y", "c/z"]
    assert cfg.id == MineConfig(allowlist=("c/z", "a/x", "b/y")).id


def test_configs_are_frozen_and_forbid_unknown_fields():
    with pytest.raises(pydantic.ValidationError):
        MineConfig().batch_size = 5
    with pytest.raises(ValueError, match="licences"):
        MineConfig(licences=["mit"])
    with pytest.raises(ValueError, match="operator"):
        CodeConfig(operator=("relational_flip",))
    assert hash(MineConfig()) == hash(MineConfig()) and CodeConfig() == CodeConfig()


def test_operators_are_checked_against_the_mutation_operators():
    assert CodeConfig().operators == MUTATION_OPERATORS
    assert CodeConfig(operators=["relational_flip"]).operators == ("relational_flip",)
    with pytest.raises(ValueError, match=f"unknown flip, nope; known: {', '.join(MUTATION_OPERATORS)}"):
        CodeConfig(operators=("flip", "relational_flip", "nope"))
    with pytest.raises(ValueError, match="at least one operator"):
        CodeConfig(operators=())


def test_the_syntax_filter_config_comes_from_the_code_config():
    syntax = CodeConfig(allow_syntax_errors=True, min_depth=4, max_old_error_nodes=2).syntax()
    assert syntax == SyntaxConfig(allow_syntax_errors=True, min_depth=4, max_old_error_nodes=2)
    with pytest.raises(ValueError, match="max_bytes > 0"):
        SyntaxConfig(max_bytes=0)


def test_config_id_is_the_same_for_a_model_and_its_json_dump():
    cfg = MineConfig(licenses="themis", max_file_bytes=5)
    data = cfg.model_dump(mode="json")
    assert config_id(cfg) == config_id(data) == config_id(json.loads(json.dumps(data))) == cfg.id
    assert len(cfg.id) == 12 and cfg.id != MineConfig().id
    assert config_id({"b": 1, "a": [1, 2]}) == config_id({"a": [1, 2], "b": 1})
    assert config_id({"s": {"b", "a", "c"}}) == config_id({"s": ["a", "b", "c"]})  # a set hashes sorted


def test_config_problems_name_the_callers_flags_and_read_as_written():
    with pytest.raises(pydantic.ValidationError) as caught:
        MineConfig(licenses="", since="soon")
    worded = config_problems(caught.value, {"licenses": "--licenses", "since": "--since"})
    assert worded == (
        "--licenses: must name at least one licence; "
        "--since: 'soon' is not a date; use YYYY-MM-DD or 2019-03-01T00:00:00"
    )
    with pytest.raises(pydantic.ValidationError) as caught:
        MineConfig(batch_size=0)
    assert config_problems(caught.value) == "max_file_bytes, batch_size and target_shard_bytes must be positive"
    with pytest.raises(pydantic.ValidationError) as caught:
        CodeConfig(seed="x")
    assert config_problems(caught.value).startswith("seed: Input should be a valid integer")


def test_schemas_import_nothing_from_transforms_or_pipelines():
    assert packages_loaded_by("schemas", ("transforms", "pipelines")) == []
