"""Reward model read-out, LM path, pad-token rule and sequence-classifier export."""

import pytest
import torch

from trainer.collate import PairCollator
from trainer.data import PairRecord
from trainer.model import (
    RewardModel,
    ensure_pad_token,
    export_sequence_classifier,
    load_reward_model,
    map_state_dict,
)
from trainer.tokenization import encode_pair


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def batch(tokenizer):
    records = [
        PairRecord(f"p{i}", "sys" if i % 2 else None, "task " * (i + 1), "good " * (i + 2), "bad " * (3 - i))
        for i in range(3)
    ]
    return PairCollator(tokenizer.pad_token_id)([encode_pair(tokenizer, r, 64) for r in records])


def test_zero_head_starts_at_ln2_and_lm_loss_is_computed(tiny_model_dir, batch):
    from trainer.losses import reward_loss

    model = load_reward_model(tiny_model_dir, with_lm_head=True)
    assert model.lm_head is not None
    assert model.lm_head.weight is model.backbone.get_input_embeddings().weight  # tied in this config
    out = model(**batch)
    assert torch.equal(out.chosen_rewards, torch.zeros(3))
    assert out.lm_loss is not None and float(out.lm_loss.detach()) > 0
    loss = reward_loss(out.chosen_rewards, out.rejected_rewards, lm=out.lm_loss, lambda_lm=0.5)
    assert float(loss.bt.detach()) == pytest.approx(0.6931, abs=1e-4)


def test_lambda_zero_loads_no_lm_head(tiny_model_dir, batch):
    model = load_reward_model(tiny_model_dir, with_lm_head=False)
    assert model.lm_head is None and model.get_output_embeddings() is None
    assert model(**batch).lm_loss is None  # the mask is ignored without a head


def test_lm_loss_matches_full_logits(tiny_model_dir, batch):
    model = load_reward_model(tiny_model_dir, with_lm_head=True)
    out = model(**batch)
    hidden = model.backbone(
        input_ids=batch["chosen_input_ids"], attention_mask=batch["chosen_attention_mask"]
    ).last_hidden_state
    logits = model.lm_head(hidden)[:, :-1]
    targets = batch["chosen_input_ids"][:, 1:]
    mask = batch["chosen_lm_mask"][:, 1:]
    expected = torch.nn.functional.cross_entropy(logits[mask], targets[mask])
    assert torch.allclose(out.lm_loss, expected, atol=1e-5)


def test_concatenated_pass_matches_separate_scoring(tiny_model_dir, batch):
    model = load_reward_model(tiny_model_dir, with_lm_head=False)
    torch.manual_seed(0)
    torch.nn.init.normal_(model.reward_head.weight)
    out = model(**batch)
    alone = model.score(batch["chosen_input_ids"], batch["chosen_attention_mask"], batch["chosen_last_index"])
    assert torch.allclose(out.chosen_rewards, alone, atol=1e-4)


def test_map_state_dict():
    state = {
        "backbone.layers.0.w": torch.ones(1),
        "reward_head.weight": torch.ones(1, 4),
        "lm_head.weight": torch.ones(2),
        "_orig_mod.backbone.norm.weight": torch.ones(1),
    }
    mapped = map_state_dict(state, "model", "score")
    assert set(mapped) == {"model.layers.0.w", "score.weight", "model.norm.weight"}


def test_export_reloads_as_sequence_classifier_with_same_scores(tiny_model_dir, tokenizer, batch, tmp_path):
    from transformers import AutoModelForSequenceClassification

    model = load_reward_model(tiny_model_dir, with_lm_head=True)
    torch.manual_seed(1)
    torch.nn.init.normal_(model.reward_head.weight)
    out_dir = export_sequence_classifier(model.state_dict(), model.backbone.config, tokenizer, str(tmp_path / "rm"))
    assert (tmp_path / "rm" / "model.safetensors").exists()
    assert (tmp_path / "rm" / "chat_template.jinja").exists() or "chat_template" in (
        tmp_path / "rm" / "tokenizer_config.json"
    ).read_text()
    classifier = AutoModelForSequenceClassification.from_pretrained(out_dir)
    assert type(classifier).__name__ == "Qwen2ForSequenceClassification"
    assert classifier.config.num_labels == 1 and classifier.config.pad_token_id == tokenizer.pad_token_id
    assert torch.equal(classifier.score.weight, model.reward_head.weight)
    with torch.no_grad():
        ours = model(**batch)
        theirs_c = classifier(input_ids=batch["chosen_input_ids"], attention_mask=batch["chosen_attention_mask"])
        theirs_r = classifier(input_ids=batch["rejected_input_ids"], attention_mask=batch["rejected_attention_mask"])
    assert torch.allclose(theirs_c.logits[:, 0], ours.chosen_rewards, atol=1e-4)
    assert torch.allclose(theirs_r.logits[:, 0], ours.rejected_rewards, atol=1e-4)


def test_ensure_pad_token_rules(tokenizer):
    assert ensure_pad_token(tokenizer) == tokenizer.pad_token_id
    clone = tokenizer.__class__.from_pretrained(tokenizer.name_or_path)
    clone.pad_token = None
    last = clone.apply_chat_template([{"role": "user", "content": "u"}], return_dict=False)[-1]
    pad = ensure_pad_token(clone)  # falls back to a token that never ends a sequence
    assert pad is not None and pad != last
    bad = tokenizer.__class__.from_pretrained(tokenizer.name_or_path)
    bad.pad_token = bad.convert_ids_to_tokens(last)
    with pytest.raises(ValueError, match="last token"):
        ensure_pad_token(bad)


def test_reward_model_exposes_fsdp_hints(tiny_model_dir):
    model = load_reward_model(tiny_model_dir, with_lm_head=True)
    assert isinstance(model, RewardModel)
    assert "Qwen2DecoderLayer" in model._no_split_modules
    assert model.get_output_embeddings() is model.lm_head
