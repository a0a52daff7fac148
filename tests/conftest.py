"""Shared fixtures: real git repositories built with `git fast-import`."""

import json
import subprocess
import sys

import pytest

from pipelines.demo import load_samples
from pipelines.git_history import GitHistory


MIT = "MIT License\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\n"
LANG_DIRS = ("c", "csharp", "cpp", "go", "java", "javascript", "python", "ruby")


def one_sample_per_language():
    """The first embedded sample of each language, in LANG_DIRS order."""
    samples = load_samples()
    return [next(s for s in samples if s.name.split("_")[1] == lang) for lang in LANG_DIRS]


def build_hostile_history():
    """A history with one kept commit per language and every hostile case.

    Returns (history, expected) where expected maps a commit subject to the
    reason it must be rejected with, or to "kept".
    """
    h = GitHistory()
    expected = {}
    root = h.commit("Initial import of the services", {"LICENSE": MIT, "README.md": "# x\n"})
    expected["Initial import of the services"] = "multi_file"
    samples = one_sample_per_language()
    for s in samples:
        h.commit(f"Add the {s.name} module", {s.path: s.before})
        expected[f"Add the {s.name} module"] = "added"
    for s in samples:
        h.commit(s.message, {s.path: s.after})
        expected[s.message.split("\n")[0]] = "kept"
    h.commit("Add firmware blob for the board", {"fw/blob.c": b"\x00\x01\x02binary"})
    h.commit("Fix bug in firmware blob loader", {"fw/blob.c": b"\x00\x01\x03binary"})
    expected["Add firmware blob for the board"] = "added"
    expected["Fix bug in firmware blob loader"] = "binary"
    h.commit("Add legacy latin-1 module", {"legacy/enc.py": "x = 1\n"})
    h.commit("Fix bug in legacy encoding table", {"legacy/enc.py": "name = 'caf\xe9'\n".encode("latin-1")})
    expected["Add legacy latin-1 module"] = "added"
    expected["Fix bug in legacy encoding table"] = "not_utf8"
    h.commit("Rename module to the new layout", renames={samples[0].path: "moved/" + samples[0].path})
    expected["Rename module to the new layout"] = "renamed"
    h.commit(
        "Fix bug in two modules at once",
        {samples[1].path: samples[1].after + "\n// x\n", samples[2].path: samples[2].after + "\n// y\n"},
    )
    expected["Fix bug in two modules at once"] = "multi_file"
    side = h.commit("Fix bug on the side branch only", {"side/notes.py": "a = 1\n"}, branch="side", parent=root)
    expected["Fix bug on the side branch only"] = "added"
    h.commit("Integrate the side branch fixes", {"side/notes.py": "a = 1\n"}, merge=side)
    expected["Integrate the side branch fixes"] = "merge_commit"
    h.commit("Merge the notes into the main module", {samples[5].path: samples[5].after + "\n// z\n"})
    expected["Merge the notes into the main module"] = "message_pattern"
    h.commit("Fix bug: merge of feature branch", {"side/notes.py": "a = 2\n"}, merge=None)
    expected["Fix bug: merge of feature branch"] = "kept"
    h.commit("", {samples[3].path: samples[3].after + "\n# empty message\n"})
    expected[""] = "message_too_short"
    h.commit("Add a large generated table", {"gen/table.py": "T = [\n" + "    0,\n" * 10 + "]\n"})
    h.commit("Fix bug in the generated table", {"gen/table.py": "T = [\n" + "    1,\n" * 1_500_000 + "]\n"})
    expected["Add a large generated table"] = "added"
    expected["Fix bug in the generated table"] = "too_large"
    h.commit("Remove the obsolete table module", {"gen/table.py": None})
    expected["Remove the obsolete table module"] = "deleted"
    h.commit("Add symlink to the main module", symlinks={"link.py": samples[6].path})
    h.commit("Fix bug by pointing the symlink elsewhere", symlinks={"link.py": samples[7].path})
    expected["Add symlink to the main module"] = "added"
    expected["Fix bug by pointing the symlink elsewhere"] = "symlink"
    h.commit("Vendor the shared library as a submodule", gitlinks={"vendor/lib": "1" * 40})
    h.commit("Fix bug by updating the vendored library", gitlinks={"vendor/lib": "2" * 40})
    expected["Vendor the shared library as a submodule"] = "added"
    expected["Fix bug by updating the vendored library"] = "submodule"
    h.commit("Document the build steps in detail", {"README.md": "# x\n\nbuild\n"})
    expected["Document the build steps in detail"] = "unsupported_language"
    h.commit("Change the greeting text on start", {samples[4].path: samples[4].after + "\n// hello\n"})
    expected["Change the greeting text on start"] = "no_criterion"
    return h, expected


@pytest.fixture(scope="session")
def hostile_repo(tmp_path_factory):
    """(path, expected) of a licensed repository with every hostile case."""
    return write_history(tmp_path_factory, build_hostile_history, "hostile", "git@github.com:acme/hostile.git")


def write_history(tmp_path_factory, build, name, origin):
    """Writes the history `build()` returns as repository `name`; returns (path, expected)."""
    history, expected = build()
    path = str(tmp_path_factory.mktemp("repos") / name)
    history.write(path, origin=origin)
    return path, expected


@pytest.fixture(scope="session")
def unlicensed_repo(tmp_path_factory):
    """A repository with two code commits and no licence file."""
    h = GitHistory()
    s = one_sample_per_language()[6]
    h.commit("Add the parser module here", {s.path: s.before})
    h.commit(s.message, {s.path: s.after})
    return h.write(str(tmp_path_factory.mktemp("repos") / "nolicense"), bare=True)


LATIN1_PATH = b"legacy/caf\xe9.py"  # Latin-1, not UTF-8
HOSTILE_PATH = '-rf "quoted"\tname\nwith newline.py'  # valid UTF-8 that git would quote


def build_non_utf8_history():
    """A licensed history with a Latin-1 file name, odd paths and Latin-1 messages.

    Returns (history, expected) where expected maps a commit subject (as it must
    read once decoded) to the reason it must be rejected with, or to "kept".
    """
    h = GitHistory()
    expected = {}
    h.commit("Initial import of the services", {"LICENSE": MIT, "README.md": "# x\n"})
    expected["Initial import of the services"] = "multi_file"
    h.commit("Add the legacy lookup module", {LATIN1_PATH: "TABLE = {}\n"})
    expected["Add the legacy lookup module"] = "added"
    h.commit("Fix bug in the legacy lookup table", {LATIN1_PATH: "TABLE = {'a': 1}\n"})
    expected["Fix bug in the legacy lookup table"] = "path_not_utf8"
    h.commit("Rename the legacy module to its package", renames={LATIN1_PATH: b"pkg/caf\xe9.py"})
    expected["Rename the legacy module to its package"] = "renamed"
    h.commit("Add the module with an awkward name", {HOSTILE_PATH: "def f():\n    return 1\n"})
    expected["Add the module with an awkward name"] = "added"
    h.commit("Fix bug in the awkwardly named module", {HOSTILE_PATH: "def f():\n    return 2\n"})
    expected["Fix bug in the awkwardly named module"] = "kept"
    h.commit("Add the menu module for the caf\xe9", {"menu.py": "ITEMS = []\n"})
    expected["Add the menu module for the caf\xe9"] = "added"
    latin1 = "Fix bug in the caf\xe9 menu prices".encode("latin-1")
    h.commit(latin1, {"menu.py": "ITEMS = [1]\n"}, encoding="ISO-8859-1")
    expected["Fix bug in the caf\xe9 menu prices"] = "kept"
    h.commit(b"Fix bug in the caf\xe9 menu totals", {"menu.py": "ITEMS = [1, 2]\n"})  # Latin-1, no header
    expected["Fix bug in the caf\\xe9 menu totals"] = "message_undecodable"
    return h, expected


@pytest.fixture(scope="session")
def non_utf8_repo(tmp_path_factory):
    """(path, expected) of a licensed repository whose history has non-UTF-8 names and messages."""
    return write_history(tmp_path_factory, build_non_utf8_history, "legacy", "https://github.com/acme/legacy.git")


def packages_loaded_by(package: str, of: tuple[str, ...]) -> list[str]:
    """The modules of the top-level packages `of` that importing every module of `package` loads (fresh interpreter)."""
    code = (
        f"import importlib, json, pkgutil, sys, {package}\n"
        f"for m in pkgutil.walk_packages({package}.__path__, '{package}.'):\n"
        "    if '.demo.commits' not in m.name:\n"
        "        importlib.import_module(m.name)\n"
        f"print(json.dumps(sorted(n for n in sys.modules if n.split('.')[0] in {of!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def cli_error(argv: list[str], capsys) -> tuple[int, str]:  # noqa: ANN001 - pytest's capsys
    """Runs `codepref ARGV` in-process, expecting it to exit; returns its exit status and what it wrote to stderr."""
    from pipelines import cli

    with pytest.raises(SystemExit) as done:
        cli.main(argv)
    return done.value.code, capsys.readouterr().err
