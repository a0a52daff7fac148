"""For DoFns that buffer elements and emit the rest in `finish_bundle`.

What `finish_bundle` yields carries no element's window, so Beam needs each
output wrapped in a `WindowedValue`. codepref's batch stages run in the global
window; `in_global_window` wraps their outputs, tagged or not.
"""

__all__ = ["in_global_window"]

from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindows


def in_global_window(outputs: Iterable[Any]) -> Iterator[Any]:
    """Yields each output (a value or a `TaggedOutput`) in the global window."""
    for out in outputs:
        if isinstance(out, beam.pvalue.TaggedOutput):
            yield beam.pvalue.TaggedOutput(out.tag, GlobalWindows.windowed_value(out.value))
        else:
            yield GlobalWindows.windowed_value(out)
