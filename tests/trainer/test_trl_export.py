"""A `codepref export --format trl` trains with the real TRL `RewardTrainer` and its prompt reaches the model.

The regression this guards: TRL given a release itself finds no `prompt` column and
trains on the code alone. On the export, the tokenised chosen sequence must hold
the system prompt and the instruction.
"""

import pytest

from pipelines import export
from schemas.runs import ExportRun
from tests.data_cards.conftest import pair, write_run


SYSTEM = "You judge code by its functional correctness above all."
PROMPT = "Write a function that returns the larger of two integers."


def rows() -> list[dict]:
    made = []
    for i in range(8):
        row = pair(f"p{i}", "commits", "Functional Correctness", "Python", "mit", prompt=f"{PROMPT} Case {i}.")
        row["chosen"] = f"def larger(a, b):\n    return a if a > b else b  # {i}\n"
        row["rejected"] = f"def larger(a, b):\n    return a if a < b else b  # {i}\n"
        row["system"] = SYSTEM if i % 2 == 0 else None
        made.append(row)
    return made


@pytest.fixture(scope="module")
def trl_export(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("trl")
    run_dir = write_run(root / "run", {"train": [rows()]})
    export.run(ExportRun(run=run_dir, out=str(root / "export"), format="trl"))
    return str(root / "export")


def test_reward_trainer_trains_on_the_export_with_system_and_prompt(trl_export, tiny_model_dir, tmp_path):
    import datasets
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from trl import RewardConfig, RewardTrainer

    ds = datasets.load_dataset("parquet", data_files={"train": f"{trl_export}/data/train-*.parquet"})["train"]
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=1)
    model.config.pad_token_id = tokenizer.pad_token_id
    args = RewardConfig(
        output_dir=str(tmp_path / "rm"),
        max_steps=2,
        per_device_train_batch_size=2,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        max_length=512,
    )
    trainer = RewardTrainer(model=model, args=args, train_dataset=ds, processing_class=tokenizer)
    before = [p.detach().clone() for p in model.parameters()]
    trainer.train()
    assert trainer.state.global_step == 2
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    tokenised = trainer.train_dataset  # TRL's own tokenisation: prompt messages + chosen message, chat template
    with_system = tokenizer.decode(tokenised[0]["chosen_ids"])
    without_system = tokenizer.decode(tokenised[1]["chosen_ids"])
    assert SYSTEM in with_system and f"{PROMPT} Case 0." in with_system and "a > b" in with_system
    assert SYSTEM not in without_system and f"{PROMPT} Case 1." in without_system


def test_dpo_trainer_prepares_the_same_export(trl_export, tiny_model_dir, tmp_path):
    import datasets
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    ds = datasets.load_dataset("parquet", data_files={"train": f"{trl_export}/data/train-*.parquet"})["train"]
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    args = DPOConfig(
        output_dir=str(tmp_path / "dpo"),
        max_steps=1,
        per_device_train_batch_size=2,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
    )
    trainer = DPOTrainer(model=model, args=args, train_dataset=ds, processing_class=tokenizer)
    trainer.train()
    tokenised = trainer.train_dataset
    prompt = tokenizer.decode(tokenised[0]["prompt_ids"])
    chosen = tokenizer.decode(tokenised[0]["chosen_ids"])
    assert SYSTEM in prompt and f"{PROMPT} Case 0." in prompt and "a > b" in chosen
    assert trainer.state.global_step == 1
