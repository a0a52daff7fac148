"""The final stages over finished pairs, shared by every pipeline that writes pairs.

pairs → FilterLength → FilterLanguage → (FilterPerplexity) → FilterSecrets
      → Deduplicate (exact, then near; optionally against a previous release)
      → Decontaminate → (MixPairs: caps and targets) → SplitPairs → {split: pairs}

Each stage's composite reports its `StageReport`s, so the manifest's funnel shows
every one; the first reads the ends of every branch before it (the `feed`,
`transforms.manifest.upstream`), each other the stage before it.
`final_stage_names` lists them for a config. Cheap per-pair filters run first, so dedup sees fewer rows.
"""

__all__ = ["add_arguments", "final_stage_names", "final_stages", "read_release_rows"]

import argparse
from collections.abc import Iterator

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from schemas.build import MixConfig
from schemas.final import FinalConfig
from transforms import decontaminate, mix, split
from transforms.dedup.stage import EXACT_STAGE, NEAR_STAGE, Deduplicate
from transforms.filters import language, length, perplexity, secrets
from transforms.manifest import StageReport
from transforms.sources.commit_files import match_files


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the `--filters` option."""
    parser.add_argument(
        "--filters",
        metavar="YAML",
        help="final stages: length, language, secrets, dedup, decontamination, split "
        "(default: the paper's settings, no benchmarks)",
    )


def read_release_rows(path: str, columns: tuple[str, ...]) -> Iterator[dict]:
    """Yields the `columns` of a previous release's Parquet file, batch by batch.

    Raises:
        ValueError: the file lacks one of the columns.
    """
    import pyarrow.parquet as pq

    with FileSystems.open(path) as f:
        parquet = pq.ParquetFile(f)
        missing = [c for c in columns if c not in parquet.schema_arrow.names]
        if missing:
            raise ValueError(f"previous release file {path} has no column {', '.join(missing)}")
        for batch in parquet.iter_batches(batch_size=1024, columns=list(columns)):
            yield from batch.to_pylist()


def final_stage_names(cfg: FinalConfig, mix_cfg: MixConfig | None = None) -> list[str]:
    """The stages `final_stages` wires for these configs, in order (it checks that it does).

    `codepref publish` requires them at the end of a run's funnel.
    """
    names = [length.STAGE]
    names += [language.STAGE] if cfg.english_only else []
    names += [perplexity.STAGE] if cfg.perplexity.model else []
    names += [secrets.STAGE] if cfg.secrets else []
    names += [EXACT_STAGE, NEAR_STAGE, decontaminate.STAGE]
    return names + ([mix.STAGE] if mix_cfg is not None and (mix_cfg.caps or mix_cfg.targets) else [])


def final_stages(
    p: beam.Pipeline,
    pairs: beam.PCollection,
    cfg: FinalConfig,
    feed: dict[str, tuple[str, ...]],
    mix_cfg: MixConfig | None = None,
) -> tuple[dict[str, beam.PCollection], tuple[StageReport, ...]]:
    """Wires the final stages; returns the pairs of each split (validation only if its fraction > 0) and the reports.

    `feed` names the stages whose `out` rows `pairs` are (`rows_from`, `made_from`: `transforms.manifest.upstream`).
    With `mix_cfg` (caps or targets), stage `mix` runs between decontamination and the split.
    """
    length_cfg = cfg.length
    filters = [("FilterLength", length.FilterLength(length_cfg.max_tokens, length_cfg.tokenizer, length_cfg.kind))]
    if cfg.english_only:
        filters.append(("FilterLanguage", language.FilterLanguage()))
    if cfg.perplexity.model:
        perplexity_filter = perplexity.FilterPerplexity(cfg.perplexity.model, cfg.perplexity.max_perplexity)
        filters.append(("FilterPerplexity", perplexity_filter))
    if cfg.secrets:
        filters.append(("FilterSecrets", secrets.FilterSecrets()))
    reports: tuple[StageReport, ...] = ()
    for label, transform in filters:
        out = pairs | label >> transform
        reports += out.after(**feed)
        pairs, feed = out.main, {"rows_from": (reports[-1].name,)}
    previous = None
    if cfg.previous_release:
        files = sorted({f for pattern in cfg.previous_release for f in match_files(pattern)})
        columns = tuple(dict.fromkeys((*cfg.dedup.columns, *([cfg.dedup.id_column] if cfg.dedup.id_column else []))))
        previous = (
            p
            | "PreviousReleaseFiles" >> beam.Create(files)
            | "ReadPreviousRelease" >> beam.FlatMap(read_release_rows, columns)
        )
    deduped = pairs | "DeduplicatePairs" >> Deduplicate(cfg.dedup, previous=previous)
    reports += deduped.after(feed["rows_from"])
    decon = cfg.decontamination
    clean = deduped.main | "Decontaminate" >> decontaminate.Decontaminate(
        list(decon.benchmarks), decon.column, decon.ngram, decon.include_code
    )
    reports += clean.after((NEAR_STAGE,))
    final = clean.main
    if mix_cfg is not None and (mix_cfg.caps or mix_cfg.targets):
        mixed = final | "MixPairs" >> mix.MixPairs(mix_cfg)
        reports += mixed.after((decontaminate.STAGE,))
        final = mixed.main
    wired = [r.name for r in reports]
    if wired != final_stage_names(cfg, mix_cfg):
        raise RuntimeError(f"final_stages wired {wired}, final_stage_names says {final_stage_names(cfg, mix_cfg)}")
    splits = final | "SplitPairs" >> split.SplitPairs(cfg.split.validation_fraction, cfg.split.salt)
    if cfg.split.validation_fraction > 0:
        return {split.TRAIN: splits.train, split.VALIDATION: splits.validation}, reports
    return {split.TRAIN: splits.train}, reports
