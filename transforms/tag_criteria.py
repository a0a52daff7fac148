"""Tag commits with the criteria their subject and message talk about.

Each criterion has a term list (one lowercase term a line, `#` comments) shipped in
`transforms/data/terms/`. A commit gets every criterion one of whose terms is a
substring of its lowercased subject or message; terms are cut to stems (`optimiz`,
`sanitiz`) where that stands in for stemming. The lists, their sizes and how to
swap them are in the README.

`TagCriteria`: PCollection[CommitRecord] → `transforms.manifest.StageOutputs` (`main`:
the tagged commits; one report, stage `tag_criteria`).
Reject reason: `no_criterion`. Counters (`codepref.tag_criteria`): `in`, `out`,
`rejected:no_criterion`, and `criterion:<name>` per tag.
"""

__all__ = ["STAGE", "TagCriteria", "load_term_lists", "tag_criteria"]

import dataclasses
import importlib.resources
import os

import apache_beam as beam

from schemas.labels import CODE_CRITERIA
from schemas.records import CommitRecord, RejectRecord
from transforms.manifest import StageOutputs, StageReport, count_input
from transforms.metrics import TAG_MAIN, TAG_REJECTED, beam_counter


STAGE = "tag_criteria"
NO_CRITERION = "no_criterion"

TermLists = dict[str, tuple[str, ...]]


def _file_name(criterion: str) -> str:
    return criterion.lower().replace(" ", "_") + ".txt"


def _parse_terms(text: str) -> tuple[str, ...]:
    terms = (line.strip().lower() for line in text.splitlines())
    return tuple(sorted({t for t in terms if t and not t.startswith("#")}))


def load_term_lists(terms_dir: str | None = None) -> TermLists:
    """Reads one term list per criterion, from `terms_dir` or the shipped lists.

    Raises:
        FileNotFoundError: `terms_dir` lacks a criterion's file
            (named like `runtime_efficiency.txt`).
    """
    lists: TermLists = {}
    for criterion in CODE_CRITERIA:
        name = _file_name(criterion)
        if terms_dir:
            with open(os.path.join(terms_dir, name), encoding="utf-8") as f:
                text = f.read()
        else:
            text = importlib.resources.files("transforms").joinpath("data", "terms", name).read_text("utf-8")
        lists[criterion] = _parse_terms(text)
    return lists


def tag_criteria(subject: str, message: str, terms: TermLists) -> tuple[str, ...]:
    """Returns the criteria whose terms occur in the subject or message, in label order."""
    text = f"{subject}\n{message}".lower()
    return tuple(c for c in CODE_CRITERIA if any(t in text for t in terms.get(c, ())))


class _TagCriteriaFn(beam.DoFn):
    def __init__(self, terms_dir: str | None) -> None:
        self._terms_dir = terms_dir

    def setup(self) -> None:
        self._terms = load_term_lists(self._terms_dir)
        self._count = beam_counter(STAGE)

    def process(self, commit: CommitRecord):
        self._count("in", 1)
        criteria = tag_criteria(commit.subject, commit.message, self._terms)
        if not criteria:
            self._count(f"rejected:{NO_CRITERION}", 1)
            payload = {"repos": commit.repos, "commit": commit.commit, "subject": commit.subject}
            reject = RejectRecord.make(STAGE, NO_CRITERION, commit.commit, "no term matched", payload)
            yield beam.pvalue.TaggedOutput(TAG_REJECTED, reject)
            return
        for criterion in criteria:
            self._count(f"criterion:{criterion}", 1)
        self._count("out", 1)
        yield commit._replace(criteria=criteria)


@dataclasses.dataclass
class TagCriteria(beam.PTransform):
    """Tags commits with criteria; untagged commits are rejected.

    Attributes:
        terms_dir: a folder of custom term lists, or None for the shipped ones.
    """

    terms_dir: str | None = None

    def expand(self, commits: beam.PCollection[CommitRecord]):  # returns StageOutputs
        out = commits | "Tag" >> beam.ParDo(_TagCriteriaFn(self.terms_dir)).with_outputs(TAG_REJECTED, main=TAG_MAIN)
        tagged, rejected = out[TAG_MAIN], out[TAG_REJECTED]
        return StageOutputs(tagged, rejected, (StageReport(STAGE, count_input(commits, ""), tagged, rejected),))
