"""Chat-template encoding, response-side truncation (§4.2) and the pair collator."""

import pytest
import torch

from trainer.collate import PairCollator, pad_right
from trainer.data import PairRecord
from trainer.tokenization import (
    SKIP_NO_BUDGET,
    SKIP_PROMPT_TOO_LONG,
    SKIP_TOO_LONG,
    EncodedPair,
    EncodedSequence,
    build_messages,
    encode_for_scoring,
    encode_pair,
    encode_response,
    template_ids,
)


@pytest.fixture(scope="module")
def tokenizer(tiny_tokenizer_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_tokenizer_dir)


def test_build_messages():
    assert build_messages(None, "u") == [{"role": "user", "content": "u"}]
    assert [m["role"] for m in build_messages("s", "u", "a")] == ["system", "user", "assistant"]
    assert [m["role"] for m in build_messages("", "u", "a")] == ["user", "assistant"]


def test_encode_without_truncation_keeps_template(tokenizer):
    encoded = encode_response(tokenizer, "sys", "add two numbers", "return a + b", 256)
    assert isinstance(encoded, EncodedSequence) and not encoded.truncated
    full = template_ids(tokenizer, build_messages("sys", "add two numbers", "return a + b"), False)
    prompt = template_ids(tokenizer, build_messages("sys", "add two numbers"), True)
    assert encoded.input_ids == full
    assert encoded.prompt_length == len(prompt)
    assert full[: len(prompt)] == prompt
    text = tokenizer.decode(encoded.input_ids)
    assert text.startswith("<|im_start|>system\nsys<|im_end|>") and text.endswith("return a + b<|im_end|>\n")


def test_truncation_cuts_the_response_and_keeps_the_prompt(tokenizer):
    prompt = "write a sort function"
    response = " ".join(f"value{i}" for i in range(200))
    prompt_ids = template_ids(tokenizer, build_messages(None, prompt), True)
    max_length = len(prompt_ids) + 40
    encoded = encode_response(tokenizer, None, prompt, response, max_length)
    assert isinstance(encoded, EncodedSequence) and encoded.truncated
    assert len(encoded.input_ids) <= max_length
    assert encoded.input_ids[: len(prompt_ids)] == prompt_ids  # prompt kept whole
    text = tokenizer.decode(encoded.input_ids)
    assert "value0 value1" in text and "value199" not in text
    # the template trailer (end of turn) survives: the budget left room for it
    assert text.endswith("<|im_end|>\n")
    assert encode_response(tokenizer, None, prompt, response, max_length, truncate_response=False) == SKIP_TOO_LONG


def test_skips_when_prompt_does_not_fit(tokenizer):
    prompt = "word " * 100
    prompt_len = len(template_ids(tokenizer, build_messages(None, prompt), True))
    assert encode_response(tokenizer, None, prompt, "x", prompt_len) == SKIP_PROMPT_TOO_LONG
    # room for the prompt but not for the template's end-of-turn overhead
    assert encode_response(tokenizer, None, prompt, "long answer " * 20, prompt_len + 1) == SKIP_NO_BUDGET


def test_encode_pair_and_scoring_fallback(tokenizer):
    record = PairRecord("p1", None, "prompt", "good answer", "bad answer")
    pair = encode_pair(tokenizer, record, 128)
    assert isinstance(pair, EncodedPair) and pair.idx == "p1"
    assert pair.chosen.prompt_length == pair.rejected.prompt_length
    long_record = PairRecord("p2", None, "word " * 100, "a", "b")
    assert encode_pair(tokenizer, long_record, 32) == SKIP_PROMPT_TOO_LONG
    ids = encode_for_scoring(tokenizer, None, "word " * 100, "the answer", 32)
    assert len(ids) == 32 and tokenizer.decode(ids).endswith("the answer<|im_end|>\n")


def test_pad_right():
    values, mask = pad_right([[1, 2, 3], [4]], pad_value=0, multiple_of=4)
    assert values.tolist() == [[1, 2, 3, 0], [4, 0, 0, 0]]
    assert mask.tolist() == [[1, 1, 1, 0], [1, 0, 0, 0]]


def test_collator_masks_last_index_and_lm_mask():
    pairs = [
        EncodedPair("a", EncodedSequence([5, 6, 7, 8, 9], 3), EncodedSequence([5, 6, 7, 1], 3)),
        EncodedPair("b", EncodedSequence([5, 6, 2], 2), EncodedSequence([5, 6, 7, 1, 1, 1], 2)),
    ]
    batch = PairCollator(pad_token_id=0)(pairs)
    assert batch["chosen_input_ids"].tolist() == [[5, 6, 7, 8, 9], [5, 6, 2, 0, 0]]
    assert batch["chosen_attention_mask"].tolist() == [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]
    assert batch["chosen_last_index"].tolist() == [4, 2]
    # rejected is padded independently to its own width
    assert batch["rejected_input_ids"].shape == (2, 6)
    assert batch["rejected_last_index"].tolist() == [3, 5]
    assert batch["chosen_lm_mask"].tolist() == [
        [False, False, False, True, True],
        [False, False, True, False, False],
    ]
    assert batch["chosen_lm_mask"].dtype == torch.bool
    with pytest.raises(ValueError):
        PairCollator(0)([])
