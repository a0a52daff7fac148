"""Fixtures of the execution tests: a listener, a sandbox folder, a folder the sandbox must not write."""

import shutil
import tempfile

import pytest

from tests.transforms.execution.helpers import Listener


@pytest.fixture
def listener():
    """A `Listener`, closed after the test."""
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def workdir():
    """A fresh folder under the system temporary folder (reachable by the sandbox's `nobody`), removed after."""
    path = tempfile.mkdtemp(prefix="codepref-test-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def outside(tmp_path):
    """A folder under pytest's tmp_path that sandboxed programs must not write; world-writable, so only
    the sandbox can stop a write there."""
    folder = tmp_path / "outside"
    folder.mkdir()
    folder.chmod(0o777)
    return folder
