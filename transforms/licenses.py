"""Licence detection from a repository's licence files; the licence lists (`schemas.config`) re-exported.

`detect_license` recognises a licence text by phrases each licence must contain,
and returns its lowercase SPDX id (the spelling of the BigQuery `licenses` table).
"""

__all__ = [
    "PERMISSIVE_LICENSES",
    "THEMIS_LICENSES",
    "UNKNOWN_LICENSE",
    "detect_license",
    "is_license_file",
    "normalize_license",
    "repository_license",
]

import re

from schemas.config import PERMISSIVE_LICENSES, THEMIS_LICENSES
from transforms.sources.git import GitError, run_git


UNKNOWN_LICENSE = "unknown"

_ISC_GRANT = "permission to use, copy, modify, and/or distribute this software for any purpose"

# (spdx id, phrases that must all appear, phrases that must not), most specific first.
_SIGNATURES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("agpl-3.0", ("gnu affero general public license", "version 3"), ()),
    ("lgpl-3.0", ("gnu lesser general public license", "version 3"), ()),
    ("lgpl-2.1", ("gnu lesser general public license", "version 2.1"), ()),
    ("gpl-3.0", ("gnu general public license", "version 3"), ()),
    ("gpl-2.0", ("gnu general public license", "version 2"), ()),
    ("apache-2.0", ("apache license", "version 2.0"), ()),
    ("mpl-2.0", ("mozilla public license", "2.0"), ()),
    ("epl-2.0", ("eclipse public license", "2.0"), ()),
    ("epl-1.0", ("eclipse public license", "1.0"), ()),
    ("artistic-2.0", ("artistic license 2.0",), ()),
    ("cc0-1.0", ("cc0 1.0 universal",), ()),
    ("unlicense", ("this is free and unencumbered software released into the public domain",), ()),
    ("bsl-1.0", ("boost software license",), ()),
    ("isc", (_ISC_GRANT, "this permission notice appear"), ()),
    ("0bsd", (_ISC_GRANT,), ("this permission notice appear",)),
    ("mit", ("permission is hereby granted, free of charge",), ()),
    ("zlib", ("this software is provided 'as-is'", "altered source versions must be plainly marked"), ()),
    (
        "bsd-3-clause",
        ("redistribution and use in source and binary forms", "neither the name"),
        (),
    ),
    ("bsd-2-clause", ("redistribution and use in source and binary forms",), ("neither the name",)),
)

_LICENSE_FILE = re.compile(r"^(licen[cs]e|copying|unlicense)([-._][a-z0-9.-]*)?(\.(md|txt|rst))?$", re.IGNORECASE)
_ALIASES = {"apache 2.0": "apache-2.0", "apache-2": "apache-2.0", "bsd-3": "bsd-3-clause", "bsd-2": "bsd-2-clause"}


def normalize_license(name: str | None) -> str:
    """Lowercases a licence id and maps common spellings to SPDX; empty → unknown."""
    key = (name or "").strip().lower()
    return _ALIASES.get(key, key) or UNKNOWN_LICENSE


def is_license_file(name: str) -> bool:
    """True for names such as LICENSE, LICENCE.md, COPYING, LICENSE-MIT."""
    return bool(_LICENSE_FILE.match(name))


def detect_license(text: str) -> str | None:
    """Returns the SPDX id of a licence text, or None when none is recognised."""
    flat = " ".join(text.lower().replace("\u2019", "'").split())
    for spdx, required, forbidden in _SIGNATURES:
        if all(p in flat for p in required) and not any(p in flat for p in forbidden):
            return spdx
    return None


def repository_license(repo: str, ref: str = "HEAD") -> str:
    """Detects the licence of `repo` from the licence files at the root of `ref`.

    A permissive licence among several files (dual licensing) wins; with files but
    no recognised text the result is `unknown`, as it is with no licence file.
    """
    try:
        names = run_git(repo, "ls-tree", "--name-only", ref).decode(errors="replace").splitlines()
    except GitError:
        return UNKNOWN_LICENSE
    found: list[str] = []
    for name in sorted(filter(is_license_file, names)):
        try:
            text = run_git(repo, "cat-file", "-p", f"{ref}:{name}").decode("utf-8", errors="replace")
        except GitError:
            continue
        spdx = detect_license(text)
        if spdx:
            found.append(spdx)
    permissive = [s for s in found if s in PERMISSIVE_LICENSES]
    return (permissive or found or [UNKNOWN_LICENSE])[0]
