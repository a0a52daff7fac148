from pipelines import cli
from tests.conftest import packages_loaded_by


def test_pipelines_import_nothing_from_trainer():
    assert packages_loaded_by("pipelines", ("trainer",)) == []


def test_the_trainer_adds_its_subcommands_through_the_entry_point():
    commands = cli.build_parser()._subparsers._group_actions[0].choices
    assert {"train", "eval"} <= set(commands)
    assert {"build", "mine", "label", "mutate", "dedup", "filter", "publish", "demo", "llm", "batch"} <= set(commands)
