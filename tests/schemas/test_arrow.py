import json

import pyarrow as pa

from schemas.arrow import class_label_names, pair_schema
from schemas.labels import ASPECTS, LANGUAGES


def test_class_label_names_come_from_the_file_metadata():
    schema = pair_schema()
    assert class_label_names(schema, "language") == LANGUAGES
    assert class_label_names(schema, "aspect") == ASPECTS
    meta = json.loads(schema.metadata[b"huggingface"])
    meta["info"]["features"]["language"]["names"] = list(reversed(LANGUAGES))
    reordered = schema.with_metadata({b"huggingface": json.dumps(meta).encode()})
    assert class_label_names(reordered, "language") == tuple(reversed(LANGUAGES))
    assert class_label_names(pa.schema([("language", pa.int64())]), "language") == LANGUAGES
