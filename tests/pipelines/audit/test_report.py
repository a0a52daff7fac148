import math
import os

import pytest

from pipelines.audit.records import AuditPair, write_audit
from pipelines.audit.report import ALL, Cell, agreement_cells, format_table, report, wilson_interval
from pipelines.audit.store import VerdictStore


Z = 1.959963984540054


def quadratic_wilson(k, n):
    """The Wilson bounds as the roots of (p̂ − p)² = z² p(1 − p) / n, solved independently."""
    p_hat = k / n
    a, b, c = 1 + Z * Z / n, -(2 * p_hat + Z * Z / n), p_hat * p_hat
    root = math.sqrt(b * b - 4 * a * c)
    return (-b - root) / (2 * a), (-b + root) / (2 * a)


# (aspect, language): verdicts, None = no verdict yet
HAND_MADE = {
    ("Runtime Efficiency", "Python"): ["agree"] * 8 + ["disagree"] * 2 + ["unsure", None],
    ("Runtime Efficiency", "Go"): ["disagree"] * 3,
    ("Functional Correctness", "Python"): ["unsure", "unsure", None],
}


@pytest.fixture
def audit_dir(tmp_path):
    pairs, marks = [], []
    for (aspect, language), verdicts in HAND_MADE.items():
        for i, verdict in enumerate(verdicts):
            idx = f"{aspect[:3]}-{language}-{i}"
            pairs.append(AuditPair(idx, "train", len(pairs), aspect, language, "commits", None, "p", "a", "b"))
            if verdict:
                marks.append((idx, verdict))
    write_audit(str(tmp_path), pairs)
    store = VerdictStore(str(tmp_path / "verdicts.sqlite"))
    for idx, verdict in marks:
        store.mark(idx, verdict)
    store.mark("left-from-an-earlier-sample", "disagree")
    store.set_meta({"out_dir": "/releases/r1", "config_id": "cfg123", "seed": 7})
    return str(tmp_path)


def test_wilson_interval_matches_published_values_and_the_quadratic():
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)  # Brown, Cai & DasGupta; Newcombe (1998)
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-4))
    assert wilson_interval(10, 10) == (pytest.approx(0.7225, abs=1e-4), 1.0)
    assert wilson_interval(0, 3)[1] == pytest.approx(Z * Z / (3 + Z * Z))
    for k, n in [(8, 13), (1, 2), (37, 40), (3, 7)]:
        assert wilson_interval(k, n) == pytest.approx(quadratic_wilson(k, n), abs=1e-12)
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError):
        wilson_interval(4, 3)


def test_agreement_cells_on_a_hand_made_set(audit_dir):
    from pipelines.audit.records import load_audit

    cells = agreement_cells(load_audit(audit_dir), VerdictStore(os.path.join(audit_dir, "verdicts.sqlite")).all())
    by_key = {(c.aspect, c.language): c for c in cells}
    assert [(c.aspect, c.language) for c in cells] == [
        ("Runtime Efficiency", "Python"),
        ("Runtime Efficiency", "Go"),
        ("Functional Correctness", "Python"),
        ("Runtime Efficiency", ALL),
        ("Functional Correctness", ALL),
        (ALL, "Python"),
        (ALL, "Go"),
        (ALL, ALL),
    ]
    assert by_key["Runtime Efficiency", "Python"] == Cell("Runtime Efficiency", "Python", 8, 2, 1, 1)
    assert by_key["Runtime Efficiency", "Python"].rate == 0.8
    assert by_key["Runtime Efficiency", "Go"].rate == 0.0
    assert by_key["Runtime Efficiency", "Go"].interval == (0.0, pytest.approx(0.5615, abs=1e-4))
    unsure_only = by_key["Functional Correctness", "Python"]
    assert (unsure_only.unsure, unsure_only.pending, unsure_only.rate, unsure_only.interval) == (2, 1, None, None)
    assert by_key["Runtime Efficiency", ALL] == Cell("Runtime Efficiency", ALL, 8, 5, 1, 1)
    assert by_key[ALL, "Python"] == Cell(ALL, "Python", 8, 2, 3, 2)
    overall = by_key[ALL, ALL]  # the orphan verdict is not counted
    assert overall == Cell(ALL, ALL, 8, 5, 3, 2)
    assert overall.rate == 8 / 13
    assert overall.interval == pytest.approx(quadratic_wilson(8, 13))


def test_text_table_and_png(audit_dir, tmp_path):
    result = report(audit_dir, png=str(tmp_path / "plot.png"))
    lines = result.text.splitlines()
    assert lines[0].startswith("Audit of /releases/r1 (config cfg123), seed 7: 16 of 18 pairs reviewed")
    assert "(8 agree, 5 disagree, 3 unsure)" in lines[0]
    assert lines[2].split()[:2] == ["criterion", "language"] and set(lines[3]) <= {"-", " "}
    rows = {tuple(line.split()[:4]): line for line in lines[4:]}
    assert rows["Runtime", "Efficiency", "Python", "8"].split()[-3:] == ["80.0%", "[49.0%,", "94.3%]"]
    assert rows["Runtime", "Efficiency", "Go", "0"].split()[-3:] == ["0.0%", "[0.0%,", "56.1%]"]
    assert rows["Functional", "Correctness", "Python", "0"].split()[-2:] == ["—", "—"]
    with open(result.png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(result.png) > 5_000
    default = report(audit_dir)
    assert default.png == os.path.join(audit_dir, "agreement.png") and os.path.exists(default.png)
    assert report(audit_dir, png=None).png is None


def test_table_formatting_is_aligned():
    table = format_table([Cell("Runtime Efficiency", "Python", 1, 1, 0, 0), Cell(ALL, ALL, 1, 1, 0, 0)])
    header, rule, *rows = table.splitlines()
    assert header.split() == [
        "criterion",
        "language",
        "agree",
        "disagree",
        "unsure",
        "pending",
        "agreement",
        "95%",
        "CI",
        "(Wilson)",
    ]
    assert set(rule) <= {"-", " "}
    assert len({len(line) for line in (rule, *rows)}) == 1
    assert rows[1].split() == ["all", "all", "1", "1", "0", "0", "50.0%", "[9.5%,", "90.5%]"]
