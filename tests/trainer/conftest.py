"""Tiny, fully local fixtures for the trainer tests.

Nothing is downloaded: the tokenizer is a byte-level BPE trained here with
`tokenizers` and wrapped as a `PreTrainedTokenizerFast` with a small ChatML-like
template; the model is a 2-layer Qwen2 (hidden 64) built from a config; the
preference shards use the real `schemas.arrow.pair_schema()`. The pairs carry a
learnable signal: the chosen code ends in a validated return and the rejected
one in a `TODO` stub, with shared random filler around them.
"""

import os
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from schemas.arrow import pair_schema
from schemas.labels import ASPECTS


CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_WORDS = (
    "value",
    "items",
    "count",
    "index",
    "total",
    "result",
    "data",
    "node",
    "list",
    "map",
    "key",
    "name",
    "size",
    "left",
    "right",
    "buffer",
    "stream",
    "parse",
    "load",
    "save",
    "merge",
    "split",
    "sort",
    "filter",
    "check",
    "read",
    "write",
    "open",
    "close",
)


def make_pair(rng: random.Random, i: int) -> dict:
    """Returns one synthetic pair row (pair schema) with a learnable signal."""
    filler = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 12)))
    name = rng.choice(_WORDS)
    prompt = f"Write a function {name}_{i % 50} that uses {filler}."
    body = f"def {name}({rng.choice(_WORDS)}):\n    {filler} = {rng.randint(0, 99)}\n"
    chosen = body + "    if not valid: raise ValueError\n    return result\n"
    rejected = body + "    # TODO fix bug\n    pass\n"
    return {
        "system": None if i % 5 == 0 else "You judge code.",
        "input": prompt,
        "chosen": chosen,
        "rejected": rejected,
        "language": i % 8,
        "aspect": i % 5,
        "source": "synthetic",
        "idx": f"pair-{i:05d}",
    }


def write_shards(folder: str, split: str, rows: list[dict], shards: int) -> list[str]:
    """Writes `rows` as `shards` Parquet files with the real pair schema."""
    os.makedirs(folder, exist_ok=True)
    schema = pair_schema()
    paths = []
    for k in range(shards):
        part = rows[k::shards]
        full = [{name: row.get(name) for name in schema.names} for row in part]
        path = os.path.join(folder, f"{split}-{k:05d}-of-{shards:05d}.parquet")
        pq.write_table(pa.Table.from_pylist(full, schema=schema), path)
        paths.append(path)
    return paths


def _corpus(rng: random.Random) -> list[str]:
    texts = [" ".join(_WORDS), "system user assistant", "You judge code."]
    for i in range(300):
        pair = make_pair(rng, i)
        texts.extend([pair["input"], pair["chosen"], pair["rejected"]])
    from trainer.prompts import full_prompt

    texts.append(full_prompt())
    return texts


@pytest.fixture(scope="session")
def pair_helpers() -> tuple:
    """`(make_pair, write_shards)` for tests that build their own shards."""
    return make_pair, write_shards


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A byte-level BPE tokenizer with a chat template and a pad token."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=2048,
        special_tokens=["<pad>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(_corpus(random.Random(0)), trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="<|im_end|>")
    tokenizer.chat_template = CHAT_TEMPLATE
    path = str(tmp_path_factory.mktemp("tokenizer"))
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: str) -> str:
    """A randomly initialised 2-layer Qwen2 (hidden 64) saved with its tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, Qwen2Config

    tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer_dir)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    path = str(tmp_path_factory.mktemp("model"))
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def pair_run_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A run folder with `data/train-*` (2 shards, 384 pairs) and `data/validation-*`."""
    rng = random.Random(1)
    rows = [make_pair(rng, i) for i in range(464)]
    root = str(tmp_path_factory.mktemp("run"))
    write_shards(os.path.join(root, "data"), "train", rows[:384], shards=2)
    write_shards(os.path.join(root, "data"), "validation", rows[384:], shards=1)
    return root


@pytest.fixture(scope="session")
def bench_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A CodeRewardBench-format Parquet file built from held-out synthetic pairs."""
    rng = random.Random(2)
    crb_languages = ["C", "CSharp", "Cpp", "Go", "Java", "JavaScript", "Python", "Ruby"]
    crb_aspects = [name.replace(" and ", "_").replace(" ", "_") for name in ASPECTS[:5]]
    rows = []
    for i in range(48):
        pair = make_pair(rng, 1000 + i)
        rows.append(
            {
                "prompt": pair["input"],
                "chosen": pair["chosen"],
                "rejected": pair["rejected"],
                "language": crb_languages[i % 8],
                "aspect": crb_aspects[i % 5],
                "subset": "SYNTH_A" if i % 2 else "SYNTH_B",
                "id": f"SYNTH_{i:04d}",
            }
        )
    path = os.path.join(str(tmp_path_factory.mktemp("bench")), "crb.parquet")
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: str, pair_run_dir: str) -> dict:
    """One short CPU training run shared by the end-to-end tests."""
    from trainer.config import TrainConfig
    from trainer.train import train

    output = str(tmp_path_factory.mktemp("train_out"))
    config = TrainConfig(
        data=pair_run_dir,
        model=tiny_model_dir,
        output=output,
        max_length=512,
        batch_size=8,
        grad_accum=2,
        lr=2e-3,
        warmup_ratio=0.1,
        min_lr_ratio=0.1,
        weight_decay=0.0,
        epochs=1,
        prompt_none=0.5,
        prompt_single=0.5,
        prompt_all=0.0,
        lambda_lm=0.1,
        mu=0.001,
        clip=1.0,
        save_steps=20,
        save_total_limit=2,
        shuffle_buffer=64,
    )
    summary = train(config)
    return {"config": config, "summary": summary, "output": output}


@pytest.fixture
def principles_file():
    """`write(path, tag="custom") -> Principles`: writes principle texts unlike codepref's own to `path`.

    Every text carries `tag`, so a system prompt made of them is easy to recognise;
    the same tag at two paths writes the same texts.
    """
    from schemas.labels import CODE_CRITERIA
    from schemas.principles import load_principles

    def write(path, tag: str = "custom"):
        os.makedirs(os.path.dirname(str(path)), exist_ok=True)
        lines = [f"base: '{tag.upper()} judge. 1. Helpful. 2. Harmless.'", "criteria:"]
        lines += [
            f"  {name.replace(' and ', '_').replace(' ', '_')}: '{tag} text of {name}.'" for name in CODE_CRITERIA
        ]
        lines.append('suffix: "\\n\\n"')
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        return load_principles(str(path))

    return write
