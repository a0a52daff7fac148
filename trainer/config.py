"""Training and evaluation configuration: frozen dataclasses and their flags.

This module imports neither torch nor transformers, so the CLI can build its
parsers cheaply. Defaults follow the CodePreference (PM) column of paper Table 5
(paper-facts §4.3) where one exists: lr 1e-5 decaying to 5e-7 (min-lr-ratio 0.05),
cosine with 5% warmup, AdamW beta=(0.9, 0.95), weight decay 0.1, clip 1.5,
lambda_lm 0.25, mu 0.001, sequence length 4096, one epoch. The magnitude
penalty defaults to the paper's centred form; `--magnitude-form abs` gives the
reference code's (paper-facts §7.2). The system-prompt mix defaults to the
reference code's 15/60/25 (§7.1); the paper's is `--prompt-single 0.65
--prompt-all 0.20`.
"""

__all__ = [
    "MAGNITUDE_FORMS",
    "MODEL_PRINCIPLES_FILE",
    "EvalConfig",
    "HelpFormatter",
    "TrainConfig",
    "add_eval_arguments",
    "add_train_arguments",
    "eval_config_from_args",
    "train_config_from_args",
]

import argparse
import dataclasses
import hashlib
import json
import os

from schemas.principles import Principles, default_principles, load_principles
from trainer.prompts import PROMPT_MODES
from transforms.system_prompt import PromptMix


MAGNITUDE_FORMS: tuple[str, ...] = ("centered", "abs")
"""Forms of the reward magnitude penalty (see `trainer.losses.magnitude_penalty`)."""

MODEL_PRINCIPLES_FILE = "codepref_principles.yaml"
"""The file in an exported model folder that holds the principle texts it was trained with."""

_CHOICES_AUTO_ON_OFF = ("auto", "on", "off")
_PRECISIONS = ("auto", "no", "bf16")
_EXPORT_DTYPES = ("auto", "float32", "bfloat16")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows flag defaults and keeps the epilog's line breaks."""


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs; see `add_train_arguments` for meanings."""

    data: str
    model: str
    output: str
    tokenizer: str | None = None
    max_length: int = 4096
    batch_size: int = 4
    grad_accum: int = 8
    lr: float = 1e-5
    min_lr_ratio: float = 0.05
    warmup_ratio: float = 0.05
    weight_decay: float = 0.1
    adam_beta1: float = 0.9
    adam_beta2: float = 0.95
    adam_eps: float = 1e-8
    epochs: int = 1
    max_steps: int | None = None
    lambda_lm: float = 0.25
    mu: float = 0.001
    magnitude_form: str = "centered"
    clip: float = 1.5
    seed: int = 42
    save_steps: int = 50
    save_total_limit: int = 2
    log_steps: int = 1
    eval_steps: int = 0
    eval_max_pairs: int = 2000
    resume: str | None = None
    prompt_none: float = 0.15
    prompt_single: float = 0.60
    prompt_all: float = 0.25
    use_system_column: bool = True
    principles: str | None = None
    shuffle_buffer: int = 10_000
    truncate_response: bool = True
    mixed_precision: str = "auto"
    gradient_checkpointing: str = "auto"
    attn_implementation: str | None = None
    export_dtype: str = "auto"
    verify_export: bool = True

    def __post_init__(self) -> None:
        """Validates ranges and choices."""
        positive = ("max_length", "batch_size", "grad_accum", "epochs", "log_steps")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {self.max_steps}")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            raise ValueError(f"min_lr_ratio must be in [0, 1], got {self.min_lr_ratio}")
        if self.lr <= 0 or self.lambda_lm < 0 or self.mu < 0 or self.clip < 0:
            raise ValueError("lr must be > 0 and lambda_lm, mu, clip must be >= 0")
        if self.magnitude_form not in MAGNITUDE_FORMS:
            raise ValueError(f"magnitude_form must be one of {MAGNITUDE_FORMS}")
        if self.mixed_precision not in _PRECISIONS:
            raise ValueError(f"mixed_precision must be one of {_PRECISIONS}")
        if self.gradient_checkpointing not in _CHOICES_AUTO_ON_OFF:
            raise ValueError(f"gradient_checkpointing must be one of {_CHOICES_AUTO_ON_OFF}")
        if self.export_dtype not in _EXPORT_DTYPES:
            raise ValueError(f"export_dtype must be one of {_EXPORT_DTYPES}")
        self.prompt_mix()
        self.principle_texts()

    def prompt_mix(self) -> PromptMix:
        """Returns the system-prompt mix (validated)."""
        return PromptMix(self.prompt_none, self.prompt_single, self.prompt_all)

    def principle_texts(self) -> Principles:
        """Returns the principle texts of assigned system prompts (`--principles`, else codepref's)."""
        return _principles(self.principles)

    def to_json(self) -> str:
        """Returns the config as sorted-key JSON."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True, indent=2)

    @property
    def config_id(self) -> str:
        """Short hash of the hyperparameters (paths and run control excluded; the principle texts, not their path)."""
        skip = {"data", "model", "output", "tokenizer", "resume", "save_steps", "log_steps", "principles"}
        items = {k: v for k, v in dataclasses.asdict(self).items() if k not in skip}
        if self.principle_texts() != default_principles():  # a copy of codepref's texts is no other run
            items["principles_sha256"] = self.principle_texts().sha256
        return hashlib.sha256(json.dumps(items, sort_keys=True).encode()).hexdigest()[:10]


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """Evaluator settings; see `add_eval_arguments` for meanings."""

    model: str
    bench: str
    output: str
    prompt_mode: str = "aspect"
    batch_size: int = 8
    max_length: int = 4096
    limit: int | None = None
    principles: str | None = None

    def __post_init__(self) -> None:
        """Validates choices and ranges."""
        if self.prompt_mode not in PROMPT_MODES:
            raise ValueError(f"prompt_mode must be one of {PROMPT_MODES}")
        if self.batch_size < 1 or self.max_length < 2:
            raise ValueError("batch_size must be >= 1 and max_length >= 2")
        self.principle_texts()  # a bad file, given or the model's own, is refused before anything loads

    def principles_path(self) -> str | None:
        """The principles file used: `--principles`, else the model's own, else None (codepref's texts)."""
        if self.principles is not None:
            return os.path.abspath(self.principles)
        trained_with = os.path.join(self.model, MODEL_PRINCIPLES_FILE)
        return trained_with if os.path.isfile(trained_with) else None

    def principle_texts(self) -> Principles:
        """The texts of the evaluation prompts (see `principles_path`)."""
        return _principles(self.principles_path())


def _principles(path: str | None) -> Principles:
    return default_principles() if path is None else load_principles(path)


def _bool_flag(parser: argparse.ArgumentParser, name: str, default: bool, help_text: str) -> None:
    parser.add_argument(f"--{name}", default=default, action=argparse.BooleanOptionalAction, help=help_text)


def add_train_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Adds the `train` flags to `parser`.

    Args:
        parser: Parser (or subparser) to extend.

    Returns:
        The same parser.
    """
    d = TrainConfig(data="", model="", output="")
    io = parser.add_argument_group("data and model")
    io.add_argument("--data", required=True, help="run folder (OUT/data/train-*.parquet), glob or file")
    io.add_argument("--model", required=True, help="local folder of the backbone (any AutoModel)")
    io.add_argument("--output", required=True, help="run folder: checkpoints, logs, exported model")
    io.add_argument("--tokenizer", default=None, help="local tokenizer folder (default: --model)")
    io.add_argument("--max-length", type=int, default=d.max_length, help="max tokens per sequence")
    _bool_flag(io, "truncate-response", d.truncate_response, "cut long responses (else skip pair)")
    io.add_argument("--shuffle-buffer", type=int, default=d.shuffle_buffer, help="rows in the shuffle buffer")
    opt = parser.add_argument_group("optimisation")
    opt.add_argument("--batch-size", type=int, default=d.batch_size, help="pairs per device per micro-batch")
    opt.add_argument("--grad-accum", type=int, default=d.grad_accum, help="micro-batches per optimizer step")
    opt.add_argument("--lr", type=float, default=d.lr, help="peak learning rate")
    opt.add_argument("--min-lr-ratio", type=float, default=d.min_lr_ratio, help="terminal LR / peak LR")
    opt.add_argument("--warmup-ratio", type=float, default=d.warmup_ratio, help="share of steps warming up")
    opt.add_argument("--weight-decay", type=float, default=d.weight_decay, help="AdamW weight decay")
    opt.add_argument("--adam-beta2", type=float, default=d.adam_beta2, help="AdamW beta2 (beta1 is 0.9)")
    opt.add_argument("--epochs", type=int, default=d.epochs, help="passes over the data")
    opt.add_argument("--max-steps", type=int, default=None, help="stop after this many optimizer steps")
    opt.add_argument("--clip", type=float, default=d.clip, help="gradient-norm clip (0: off)")
    opt.add_argument("--seed", type=int, default=d.seed, help="seed of order, prompts and init")
    loss = parser.add_argument_group("loss")
    loss.add_argument("--lambda-lm", type=float, default=d.lambda_lm, help="LM loss weight (0 skips it)")
    loss.add_argument("--mu", type=float, default=d.mu, help="magnitude penalty weight")
    loss.add_argument(
        "--magnitude-form",
        choices=MAGNITUDE_FORMS,
        default=d.magnitude_form,
        help="centered: (r_c + r_r)^2 (paper); abs: (|r_c| + |r_r|)^2 (reference code)",
    )
    prompts = parser.add_argument_group("system prompts (rows whose `system` is null)")
    prompts.add_argument("--prompt-none", type=float, default=d.prompt_none, help="share with no prompt")
    prompts.add_argument("--prompt-single", type=float, default=d.prompt_single, help="share with one criterion")
    prompts.add_argument("--prompt-all", type=float, default=d.prompt_all, help="share with all criteria")
    _bool_flag(prompts, "use-system-column", d.use_system_column, "keep non-null `system` values")
    prompts.add_argument(
        "--principles",
        metavar="YAML",
        default=None,
        help="principle texts of assigned prompts (schemas/principles.py; default: codepref's own); "
        "copied into OUTPUT/model so `codepref eval` uses them too",
    )
    run = parser.add_argument_group("run control")
    run.add_argument("--save-steps", type=int, default=d.save_steps, help="checkpoint every N steps (0: end only)")
    run.add_argument("--save-total-limit", type=int, default=d.save_total_limit, help="checkpoints kept")
    run.add_argument("--log-steps", type=int, default=d.log_steps, help="log every N steps")
    run.add_argument("--eval-steps", type=int, default=d.eval_steps, help="validate every N steps (0: end only)")
    run.add_argument("--eval-max-pairs", type=int, default=d.eval_max_pairs, help="validation pairs scored")
    run.add_argument(
        "--resume",
        nargs="?",
        const="latest",
        default=None,
        help=(
            "continue from the latest checkpoint in --output (a fresh start when there is none), "
            "or from the given checkpoint folder"
        ),
    )
    hw = parser.add_argument_group("hardware")
    hw.add_argument("--mixed-precision", choices=_PRECISIONS, default=d.mixed_precision, help="auto: bf16 on GPU")
    hw.add_argument("--gradient-checkpointing", choices=_CHOICES_AUTO_ON_OFF, default="auto", help="auto: on with GPU")
    hw.add_argument("--attn-implementation", default=None, help="e.g. sdpa or flash_attention_2")
    hw.add_argument("--export-dtype", choices=_EXPORT_DTYPES, default="auto", help="auto: bf16 if trained in bf16")
    _bool_flag(hw, "verify-export", d.verify_export, "reload the exported model to check its keys")
    return parser


def train_config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Builds a `TrainConfig` from parsed `train` flags."""
    names = {field.name for field in dataclasses.fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in vars(args).items() if k in names})


def add_eval_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Adds the `eval` flags to `parser`.

    Args:
        parser: Parser (or subparser) to extend.

    Returns:
        The same parser.
    """
    parser.add_argument("--model", required=True, help="exported model folder (sequence classifier)")
    parser.add_argument(
        "--bench",
        required=True,
        help="CodeRewardBench pairs: a Parquet/JSONL file, a glob, a CRB folder (see --config) or a Hub id",
    )
    parser.add_argument("--output", required=True, help="folder for results.json and scores.parquet")
    parser.add_argument(
        "--prompt-mode",
        choices=PROMPT_MODES,
        default="aspect",
        help="none: no system prompt; full: all principles; aspect: base + the row's criterion",
    )
    parser.add_argument(
        "--principles",
        metavar="YAML",
        default=None,
        help=f"principle texts of the system prompts (schemas/principles.py); default: the model's "
        f"{MODEL_PRINCIPLES_FILE} (what it was trained with), else codepref's own",
    )
    parser.add_argument("--batch-size", type=int, default=8, help="sequences per forward pass")
    parser.add_argument("--max-length", type=int, default=4096, help="max tokens per sequence")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N rows")
    return parser


def eval_config_from_args(args: argparse.Namespace) -> EvalConfig:
    """Builds an `EvalConfig` from parsed `eval` flags."""
    names = {field.name for field in dataclasses.fields(EvalConfig)}
    return EvalConfig(**{k: v for k, v in vars(args).items() if k in names})
