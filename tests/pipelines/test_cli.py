import subprocess
import sys

from pipelines import cli


def test_pipelines_import_nothing_from_trainer():
    code = (
        "import importlib, pkgutil, sys, pipelines\n"
        "for m in pkgutil.walk_packages(pipelines.__path__, 'pipelines.'):\n"
        "    if '.demo.commits' not in m.name:\n"
        "        importlib.import_module(m.name)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] == 'trainer'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_trainer_adds_its_subcommands_through_the_entry_point():
    commands = cli.build_parser()._subparsers._group_actions[0].choices
    assert {"train", "eval"} <= set(commands)
    assert {"build", "mine", "label", "mutate", "dedup", "filter", "publish", "demo", "llm", "batch"} <= set(commands)
