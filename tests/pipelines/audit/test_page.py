import json

from pipelines.audit.assets import SHORTCUTS
from pipelines.audit.page import JudgeVote, judge_votes, render_page, unified_diff
from pipelines.audit.records import AuditPair
from pipelines.audit.store import Verdict


DETAILS = json.dumps(
    {
        "judge": {
            "a_rate": 0.5,
            "position_consistency": 1.0,
            "votes": [
                {"chosen_first": True, "verdict": "A", "rationale": "Uses sum()."},
                {"chosen_first": False, "verdict": "A", "rationale": "B loops by hand."},
                {"chosen_first": True, "verdict": "TIE", "rationale": "Same."},
                {"chosen_first": False, "error": "not_json", "raw": "I think A"},
            ],
        },
        "ratings": [{"endpoint": "local", "rating": 4, "summary": "faster"}],
    }
)


def pair(**extra):
    base = dict(
        idx="p1",
        split="train",
        rank=1,
        aspect="Runtime Efficiency",
        language="Python",
        source="commits",
        system="sys",
        input="Make it faster",
        chosen="total = sum(xs)\n",
        rejected="total = 0\nfor x in xs: total += x\n",
        judge_matches=1,
        judge_contradictions=1,
        judge_ties=1,
        judge_errors=1,
        label_details=DETAILS,
    )
    base.update(extra)
    return AuditPair(**base)


def test_judge_votes_map_each_verdict_to_the_side_it_picks():
    votes, stats, rest = judge_votes(DETAILS)
    assert votes == [
        JudgeVote(1, "A", "A", "chosen", "Uses sum()."),
        JudgeVote(2, "B", "A", "rejected", "B loops by hand."),
        JudgeVote(3, "A", "TIE", "tie", "Same."),
        JudgeVote(4, "B", "error: not_json", "error", "I think A"),
    ]
    assert stats == {"a_rate": 0.5, "position_consistency": 1.0}
    assert json.loads(rest) == {"ratings": [{"endpoint": "local", "rating": 4, "summary": "faster"}]}
    assert judge_votes(None) == ([], {}, None)
    assert judge_votes("runtime 1.5 vs 9") == ([], {}, "runtime 1.5 vs 9")  # efficiency pairs: free text


def test_diff_runs_from_rejected_to_chosen():
    diff = unified_diff("a\nb\n", "a\nc")
    assert diff.splitlines() == [
        "--- rejected",
        "+++ chosen",
        "@@ -1,2 +1,2 @@",
        " a",
        "-b",
        "+c",
        "\\ No newline at end of file",
    ]
    assert unified_diff("same\n", "same\n") == ""


def test_page_shows_the_pair_progress_and_shortcuts():
    html = render_page(pair(), 11, [None] * 100, {})
    assert '<span id="progress">12 / 100</span>' in html
    assert "Runtime Efficiency" in html and "Python" in html and "commits" in html
    assert "Make it faster" in html and "Uses sum()." in html and "B loops by hand." in html
    assert 'class="hl"' in html and "--- rejected" in html  # highlighted sides and diff
    assert '<span class="nb">sum</span>' in html  # Pygments' Python lexer, styles inline in <style>
    for _, action in SHORTCUTS:
        assert action in html
    assert "http://" not in html.replace('"http://www.w3.org', "")  # nothing fetched from elsewhere


def test_page_shows_the_stored_verdict_and_note():
    review = Verdict("p1", "disagree", 'chosen "leaks" <fd>', "2026-01-01T00:00:00+00:00")
    html = render_page(pair(), 0, ["disagree", "agree"], {"p1": review})
    assert '<span id="verdict" class="badge disagree">disagree</span>' in html
    assert 'value="chosen &quot;leaks&quot; &lt;fd&gt;"' in html
    assert '<span id="reviewed">2</span>' in html


def test_untrusted_text_is_escaped():
    evil = "</script><script>alert(1)</script><img src=x onerror=alert(2)>"
    html = render_page(
        pair(idx='p"1', input=evil, chosen=evil, rejected="x", system=evil, source=evil, label_details=evil),
        0,
        [None],
        {},
    )
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert html.count("<script>") == 1
    assert 'data-idx="p&quot;1"' in html
