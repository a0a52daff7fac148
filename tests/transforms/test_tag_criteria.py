import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.labels import CODE_CRITERIA
from schemas.records import CommitRecord
from transforms.tag_criteria import TagCriteria, load_term_lists, tag_criteria


def test_shipped_lists_have_at_least_30_lowercase_terms():
    lists = load_term_lists()
    assert set(lists) == set(CODE_CRITERIA)
    for criterion, terms in lists.items():
        assert len(terms) >= 30, criterion
        assert all(t == t.lower() and t.strip() == t for t in terms)


def test_tagging_is_multilabel_case_insensitive_and_ordered():
    terms = load_term_lists()
    assert tag_criteria("Fix SQL Injection in login", "", terms) == ("Security Hardness",)
    assert tag_criteria("Refactor parser", "Also fixes a memory leak", terms) == (
        "Readability and Maintainability",
        "Memory Efficiency",
    )
    assert tag_criteria("Change greeting text", "on the start page", terms) == ()


def test_custom_terms_dir(tmp_path):
    for c in CODE_CRITERIA:
        (tmp_path / (c.lower().replace(" ", "_") + ".txt")).write_text("# comment\nzebra\n" if "Runtime" in c else "")
    terms = load_term_lists(str(tmp_path))
    assert tag_criteria("Zebra crossing", "", terms) == ("Runtime Efficiency",)


def commit(subject):
    return CommitRecord("c-" + subject, subject, subject, "r", "a.py", "mit", 1, "a", "b", "Python")


def test_tag_criteria_pipeline():
    with TestPipeline() as p:
        out = p | beam.Create([commit("Speed up the hot loop"), commit("Change greeting text")]) | TagCriteria()
        assert_that(
            out.main | beam.Map(lambda c: (c.subject, c.criteria)),
            equal_to([("Speed up the hot loop", ("Runtime Efficiency",))]),
            label="CheckMain",
        )
        assert_that(
            out.rejected | beam.Map(lambda r: (r.reason, r.record_id)),
            equal_to([("no_criterion", "c-Change greeting text")]),
            label="CheckRejected",
        )
