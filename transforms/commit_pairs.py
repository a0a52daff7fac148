"""Turn tagged commits into pair candidates, one per (commit, criterion), and sample them.

chosen = the new contents, rejected = the old contents, aspect = the criterion,
`input` still empty (instruction synthesis fills it). The pair id is a content
hash of the repository, commit, file and criterion. This is an expansion, not a
filter: it has no rejects, and the next stage counts its input.

`SamplePairs` (stage `sample_pairs`) keeps a stable fraction of the candidates for
labelling, chosen by hashing the pair id; the rest is rejected `not_sampled`.
"""

__all__ = ["SAMPLE_STAGE", "SOURCE", "SamplePairs", "in_sample", "pairs_from_commit"]

import dataclasses

import apache_beam as beam

from schemas.records import CommitRecord, PairRecord, RejectRecord
from transforms.commit_filters import record_id
from transforms.hashing import stable_unit
from transforms.manifest import StageOutputs, StageReport, count_input
from transforms.metrics import TAG_MAIN, TAG_REJECTED


SOURCE = "commits"
SAMPLE_STAGE = "sample_pairs"
NOT_SAMPLED = "not_sampled"


def pairs_from_commit(commit: CommitRecord) -> list[PairRecord]:
    """Returns one `PairRecord` per criterion the commit is tagged with."""
    return [
        PairRecord(
            idx=record_id(commit.repos, commit.commit, commit.file_path, criterion),
            input="",
            chosen=commit.new_contents,
            rejected=commit.old_contents,
            language=commit.language,
            aspect=criterion,
            source=SOURCE,
            origin_commit=commit.commit,
            repository=commit.repos,
            license=commit.license,
            file_path=commit.file_path,
            commit_message=commit.message,
        )
        for criterion in commit.criteria
    ]


def in_sample(idx: str, fraction: float) -> bool:
    """True when a pair id falls in the first `fraction` of the hash space (stable)."""
    if fraction >= 1.0:
        return True
    return stable_unit(idx, bits=32) < fraction


@dataclasses.dataclass
class SamplePairs(beam.PTransform):
    """Keeps a stable, hash-chosen fraction of pairs for labelling (pilots, demos).

    Attributes:
        fraction: the share kept, in (0, 1]; the rest is rejected `not_sampled`.

    Returns `StageOutputs`: `main` the kept pairs, one report of stage `sample_pairs`.
    """

    fraction: float = 1.0

    def expand(self, pairs: beam.PCollection[PairRecord]):  # returns StageOutputs
        def split(pair: PairRecord, fraction: float):
            if in_sample(pair.idx, fraction):
                yield pair
            else:
                detail = f"outside the {fraction:.0%} labelling sample"
                yield beam.pvalue.TaggedOutput(
                    TAG_REJECTED, RejectRecord.make(SAMPLE_STAGE, NOT_SAMPLED, pair.idx, detail)
                )

        out = pairs | "Sample" >> beam.FlatMap(split, self.fraction).with_outputs(TAG_REJECTED, main=TAG_MAIN)
        kept, rejected = out[TAG_MAIN], out[TAG_REJECTED]
        return StageOutputs(kept, rejected, (StageReport(SAMPLE_STAGE, count_input(pairs, ""), kept, rejected),))
