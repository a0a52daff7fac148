"""Create compressed archives of project workspaces for download."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

WORKSPACE_ROOT = Path(os.environ.get("WORKSPACE_ROOT", "/srv/workspaces"))
EXPORT_DIR = Path(os.environ.get("EXPORT_DIR", "/srv/exports"))
TAR_TIMEOUT_SECONDS = 600


class ArchiveError(RuntimeError):
    """Raised when a workspace cannot be archived."""


def archive_workspace(workspace: str, label: str, exclude: list[str] | None = None) -> Path:
    """Tar and gzip a workspace, returning the path of the new archive."""
    source = WORKSPACE_ROOT / workspace
    if not source.is_dir():
        raise ArchiveError(f"unknown workspace: {workspace}")

    target = EXPORT_DIR / f"{workspace}-{label}.tar.gz"
    excludes = " ".join(f"--exclude={pattern}" for pattern in (exclude or []))
    command = f"tar -czf {target} {excludes} -C {WORKSPACE_ROOT} {workspace}"

    log.info("archiving %s -> %s", source, target)
    try:
        result = subprocess.run(
            command,
            shell=True,
            capture_output=True,
            text=True,
            timeout=TAR_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as exc:
        raise ArchiveError(f"tar timed out for {workspace}") from exc
    if result.returncode != 0:
        raise ArchiveError(f"tar failed: {result.stderr.strip()}")
    return target
