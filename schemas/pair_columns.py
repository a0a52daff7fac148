"""The one declaration of a preference pair's columns, in release order.

Everything that lists the pair's columns is derived from `PAIR_COLUMNS`, so a
new column is added here and nowhere else:

* the Arrow schema and `datasets.Features` (`schemas.arrow.pair_features`), with
  the ClassLabel names of the label columns;
* the boundary model `schemas.records.PreferencePair` (its fields, their types and
  which are required) and the pipeline record `schemas.records.PairRecord`;
* the data card's summary of the columns (`data_cards.sections.render_summary`);
* the audit record `pipelines.audit.records.AuditPair`;
* the label decoding of `pipelines.filter`, `pipelines.audit.sample` and
  `schemas.arrow.class_label_names` (`LABEL_COLUMNS`), and the columns the
  trainer reads (`THEMIS_COLUMNS`).

Records whose fields were laid out before some columns existed (`PairRecord` and
`AuditPair` are built positionally) keep that layout as a fixed head and take
every other column after it, in release order (`columns_after`): a new column
lands at the end of each of them.

`tests/schemas/test_pair_columns.py` checks that each derived form agrees with
this declaration. This module imports nothing but the label orders, so every
package (pipelines, transforms, trainer, data cards) can read it.
"""

__all__ = [
    "COLUMN_KINDS",
    "LABEL_COLUMNS",
    "PAIR_COLUMNS",
    "THEMIS_COLUMNS",
    "ColumnKind",
    "PairColumn",
    "columns_after",
    "pair_column",
]

import dataclasses
import typing
from collections.abc import Iterable
from typing import Literal

from schemas.labels import ASPECTS, LANGUAGES


ColumnKind = Literal["text", "string", "count", "float", "label"]
"""What a column holds, which fixes its types everywhere:

* `text`: long text (Arrow `large_string`), such as prompts and code;
* `string`: a short string (Arrow `string`), such as an id or a name;
* `count`: a count that fits int32;
* `float`: a finite float64;
* `label`: a ClassLabel: a name inside the pipeline, its id (int64) in the files.
"""

COLUMN_KINDS: tuple[str, ...] = typing.get_args(ColumnKind)
"""Every `ColumnKind`."""

_PYTHON_TYPES: dict[str, type] = {"text": str, "string": str, "count": int, "float": float, "label": str}


@dataclasses.dataclass(frozen=True)
class PairColumn:
    """One column of the pair schema.

    Attributes:
        name: the column's name in the files, the records and the card.
        kind: what it holds (`ColumnKind`).
        description: what the column means.
        labels: the ClassLabel names, in id order, of a `label` column; empty otherwise.
        required: every pair has a value (the boundary model gives no default);
            other columns default to null.
        themis: one of the Themis-CodePreference columns, which a release keeps so
            it can replace that dataset; the others are provenance.
        audited: the audit record carries it (a reviewer sees it).
        summary: how the card's summary names the column, by default its name in
            backticks; consecutive columns with the same words are named once.
    """

    name: str
    kind: ColumnKind
    description: str
    labels: tuple[str, ...] = ()
    required: bool = False
    themis: bool = False
    audited: bool = True
    summary: str = ""

    def __post_init__(self) -> None:
        """Checks that the kind is known and that exactly the label columns have labels."""
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"column {self.name}: unknown kind {self.kind!r}; expected one of {COLUMN_KINDS}")
        if (self.kind == "label") != bool(self.labels):
            raise ValueError(f"column {self.name}: a label column needs its names, and only a label column has them")

    @property
    def python_type(self) -> type:
        """The value's type inside the pipeline (a label column holds its names)."""
        return _PYTHON_TYPES[self.kind]

    @property
    def summary_words(self) -> str:
        """How the card's summary names the column."""
        return self.summary or f"`{self.name}`"


_VOTES = "the judge's vote counts"

PAIR_COLUMNS: tuple[PairColumn, ...] = (
    PairColumn("system", "text", "The system prompt: the principles to judge by; null for none.", themis=True),
    PairColumn("input", "text", "The prompt the two responses answer.", required=True, themis=True),
    PairColumn("chosen", "text", "The preferred response.", required=True, themis=True),
    PairColumn("rejected", "text", "The response worse on the `aspect` criterion.", required=True, themis=True),
    PairColumn("language", "label", "The programming language, or `NL`.", LANGUAGES, required=True, themis=True),
    PairColumn("aspect", "label", "The criterion the responses differ on.", ASPECTS, required=True, themis=True),
    PairColumn("source", "string", "Where the pair came from: `commits` or a source.", required=True, themis=True),
    PairColumn("idx", "string", "The pair's id, a content hash.", required=True, themis=True),
    PairColumn("origin_commit", "string", "The commit a mined pair came from."),
    PairColumn("repository", "string", "The repository the pair's code came from."),
    PairColumn("license", "string", "The licence of the code or dataset the pair came from."),
    PairColumn("file_path", "string", "The file the pair's code came from, in its repository."),
    PairColumn("config_id", "string", "The id of the config that built the release.", audited=False),
    PairColumn("judge_matches", "count", "Judge votes for `chosen`; null for a pair not judged.", summary=_VOTES),
    PairColumn("judge_contradictions", "count", "Judge votes for `rejected`.", summary=_VOTES),
    PairColumn("judge_ties", "count", "Judge votes for neither response.", summary=_VOTES),
    PairColumn("judge_errors", "count", "Judge answers that did not parse.", summary=_VOTES),
    PairColumn("rating_mean", "float", "The raters' mean score (1-5) of a commit pair's change."),
    PairColumn(
        "label_details",
        "text",
        "How the pair was labelled (votes, ratings, mutation...), as JSON.",
        summary="`label_details`, a JSON record of how the pair was labelled",
    ),
)
"""The pair schema's columns, in release order."""

LABEL_COLUMNS: tuple[PairColumn, ...] = tuple(c for c in PAIR_COLUMNS if c.kind == "label")
"""The ClassLabel columns (`language`, `aspect`), in release order."""

THEMIS_COLUMNS: tuple[str, ...] = tuple(c.name for c in PAIR_COLUMNS if c.themis)
"""The names of the Themis-CodePreference columns, in release order."""

_BY_NAME: dict[str, PairColumn] = {c.name: c for c in PAIR_COLUMNS}


def pair_column(name: str) -> PairColumn:
    """Returns the column called `name`.

    Raises:
        KeyError: the pair schema has no such column.
    """
    return _BY_NAME[name]


def columns_after(head: Iterable[str], *, audited_only: bool = False) -> tuple[PairColumn, ...]:
    """The columns a record lays out after its fixed `head` of fields: every other column, in release order.

    Args:
        head: the names of the record's leading fields (columns or not).
        audited_only: leave out the columns the audit record does not carry.
    """
    taken = set(head)
    return tuple(c for c in PAIR_COLUMNS if c.name not in taken and (c.audited or not audited_only))
