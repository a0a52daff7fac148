import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.bundles import in_global_window


class _HoldUntilBundleEnds(beam.DoFn):
    """Emits nothing per element; the bundle's end emits evens untagged and odds tagged."""

    def start_bundle(self):
        self._held = []

    def process(self, n):
        self._held.append(n)

    def finish_bundle(self):
        outputs = [n if n % 2 == 0 else beam.pvalue.TaggedOutput("odd", n) for n in self._held]
        yield from in_global_window(outputs)


def test_finish_bundle_outputs_reach_both_outputs_and_a_grouping():
    with TestPipeline() as p:
        out = p | beam.Create(range(6)) | beam.ParDo(_HoldUntilBundleEnds()).with_outputs("odd", main="even")
        assert_that(out.even, equal_to([0, 2, 4]), label="CheckEven")
        grouped = (
            out.odd | beam.Map(lambda n: (n % 3, n)) | beam.GroupByKey() | beam.MapTuple(lambda k, v: (k, sorted(v)))
        )
        assert_that(grouped, equal_to([(0, [3]), (1, [1]), (2, [5])]), label="CheckOddGrouped")
