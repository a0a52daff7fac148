import pytest

from pipelines.git_history import GitHistory
from transforms.licenses import (
    PERMISSIVE_LICENSES,
    THEMIS_LICENSES,
    detect_license,
    is_license_file,
    repository_license,
)


TEXTS = {
    "mit": "MIT License\nPermission is hereby granted, free of charge, to any person obtaining a copy",
    "apache-2.0": "Apache License\n Version 2.0, January 2004\n http://www.apache.org/licenses/",
    "bsd-3-clause": "Redistribution and use in source and binary forms, with or without modification... "
    "Neither the name of the copyright holder nor the names of its contributors may be used",
    "bsd-2-clause": "Redistribution and use in source and binary forms, with or without\nmodification, are permitted",
    "isc": "ISC License\nPermission to use, copy, modify, and/or distribute this software for any purpose with or "
    "without fee is hereby granted, provided that the above copyright notice and this permission notice appear",
    "0bsd": "Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee "
    "is hereby granted.",
    "unlicense": "This is free and unencumbered software released into the public domain.",
    "gpl-3.0": "GNU GENERAL PUBLIC LICENSE\n Version 3, 29 June 2007",
    "agpl-3.0": "GNU AFFERO GENERAL PUBLIC LICENSE\n Version 3, 19 November 2007",
    "lgpl-2.1": "GNU LESSER GENERAL PUBLIC LICENSE\n Version 2.1, February 1999",
    "mpl-2.0": "Mozilla Public License Version 2.0\n==================================",
}


@pytest.mark.parametrize("spdx", sorted(TEXTS))
def test_detect_license(spdx):
    assert detect_license(TEXTS[spdx]) == spdx


def test_unrecognised_text_is_none():
    assert detect_license("All rights reserved. Do not copy.") is None


def test_lists():
    assert "agpl-3.0" in THEMIS_LICENSES and "agpl-3.0" not in PERMISSIVE_LICENSES
    assert len(THEMIS_LICENSES) == 12


@pytest.mark.parametrize(
    "name,ok",
    [
        ("LICENSE", True),
        ("LICENCE.md", True),
        ("COPYING", True),
        ("license-mit.txt", True),
        ("LICENSES.json", False),
        ("lib.py", False),
    ],
)
def test_is_license_file(name, ok):
    assert is_license_file(name) is ok


def test_repository_license_prefers_a_permissive_file(tmp_path):
    h = GitHistory()
    h.commit("Add licence files", {"COPYING": TEXTS["gpl-3.0"], "LICENSE-MIT": TEXTS["mit"], "a.py": "x=1\n"})
    assert repository_license(h.write(str(tmp_path / "dual"))) == "mit"
    h2 = GitHistory()
    h2.commit("Add code only", {"a.py": "x=1\n"})
    assert repository_license(h2.write(str(tmp_path / "none"), bare=True)) == "unknown"
    empty = GitHistory().write(str(tmp_path / "empty"), bare=True)
    assert repository_license(empty) == "unknown"
