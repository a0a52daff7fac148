"""Chat-template tokenisation of preference pairs with response-side truncation.

Each side of a pair is the conversation [system?, user=input, assistant=response]
rendered by the tokenizer's own chat template with `add_generation_prompt=False`.
The prompt length is that of [system?, user] with `add_generation_prompt=True`;
tokens from there on are the response side (the LM loss target).

Truncation follows paper-facts §4.2: the prompt is always kept whole, and a
sequence longer than `max_length` has its *response* cut to the budget left after
the prompt and the template's own overhead, then is re-templated and hard-clipped.
Pairs that cannot fit are skipped with a stable reason:

* `prompt_too_long`: the prompt alone reaches `max_length`;
* `no_response_budget`: no response token fits beside the prompt and overhead;
* `too_long`: the sequence is over `max_length` and truncation is off.

`encode_for_scoring` is the evaluator's variant: it never skips, falling back to
the last `max_length` tokens of the full sequence.
"""

__all__ = [
    "SKIP_NO_BUDGET",
    "SKIP_PROMPT_TOO_LONG",
    "SKIP_TOO_LONG",
    "EncodedPair",
    "EncodedSequence",
    "build_messages",
    "encode_for_scoring",
    "encode_pair",
    "encode_response",
    "template_ids",
]

import dataclasses
from collections.abc import Mapping
from typing import Any

from trainer.data import PairRecord


SKIP_PROMPT_TOO_LONG = "prompt_too_long"
SKIP_NO_BUDGET = "no_response_budget"
SKIP_TOO_LONG = "too_long"


@dataclasses.dataclass(frozen=True, slots=True)
class EncodedSequence:
    """Token ids of one templated conversation.

    Attributes:
        input_ids: All token ids, at most `max_length` of them.
        prompt_length: Number of leading prompt tokens (system, user and the
            assistant header); the rest is the response side.
        truncated: Whether the response was cut to fit.
    """

    input_ids: list[int]
    prompt_length: int
    truncated: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class EncodedPair:
    """A tokenised preference pair.

    Attributes:
        idx: The pair id.
        chosen: The chosen conversation.
        rejected: The rejected conversation.
    """

    idx: str
    chosen: EncodedSequence
    rejected: EncodedSequence


def build_messages(system: str | None, prompt: str, response: str | None = None) -> list[dict]:
    """Returns chat messages: [system?], user, [assistant?].

    Args:
        system: System prompt; omitted when None or empty.
        prompt: User turn.
        response: Assistant turn; omitted when None.

    Returns:
        A list of `{"role", "content"}` dicts.
    """
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    if response is not None:
        messages.append({"role": "assistant", "content": response})
    return messages


def template_ids(tokenizer: Any, messages: list[dict], add_generation_prompt: bool) -> list[int]:
    """Applies the tokenizer's chat template and returns the token ids.

    Args:
        tokenizer: A `transformers` tokenizer with a chat template.
        messages: Chat messages.
        add_generation_prompt: Append the assistant header.

    Returns:
        Token ids as a list.
    """
    ids = tokenizer.apply_chat_template(
        messages,
        tokenize=True,
        add_generation_prompt=add_generation_prompt,
        return_dict=False,
    )
    if isinstance(ids, Mapping):
        ids = ids["input_ids"]
    return list(ids)


def encode_response(
    tokenizer: Any,
    system: str | None,
    prompt: str,
    response: str,
    max_length: int,
    *,
    truncate_response: bool = True,
    prompt_ids: list[int] | None = None,
) -> EncodedSequence | str:
    """Tokenises one conversation, truncating the response side to fit.

    Args:
        tokenizer: A `transformers` tokenizer with a chat template.
        system: System prompt or None.
        prompt: User turn.
        response: Assistant turn.
        max_length: Maximum number of tokens.
        truncate_response: Cut over-long responses; when False they are skipped.
        prompt_ids: Precomputed prompt ids (with generation prompt), if known.

    Returns:
        The encoded sequence, or a skip reason (`SKIP_*`).
    """
    if prompt_ids is None:
        prompt_ids = template_ids(tokenizer, build_messages(system, prompt), True)
    prompt_length = len(prompt_ids)
    if prompt_length >= max_length:
        return SKIP_PROMPT_TOO_LONG
    full = template_ids(tokenizer, build_messages(system, prompt, response), False)
    if len(full) <= max_length:
        return EncodedSequence(full, prompt_length, False)
    if not truncate_response:
        return SKIP_TOO_LONG
    response_ids = tokenizer(response, add_special_tokens=False)["input_ids"]
    overhead = len(full) - prompt_length - len(response_ids)
    budget = max_length - prompt_length - max(overhead, 0)
    if budget <= 0:
        return SKIP_NO_BUDGET
    cut = tokenizer.decode(response_ids[:budget], skip_special_tokens=False)
    full = template_ids(tokenizer, build_messages(system, prompt, cut), False)[:max_length]
    return EncodedSequence(full, prompt_length, True)


def encode_pair(
    tokenizer: Any,
    record: PairRecord,
    max_length: int,
    *,
    truncate_response: bool = True,
) -> EncodedPair | str:
    """Tokenises both sides of a pair; the prompt is templated once.

    Args:
        tokenizer: A `transformers` tokenizer with a chat template.
        record: The pair.
        max_length: Maximum tokens per side.
        truncate_response: Cut over-long responses; when False they are skipped.

    Returns:
        The encoded pair, or the skip reason of the first side that failed.
    """
    prompt_ids = template_ids(tokenizer, build_messages(record.system, record.input), True)
    sides = []
    for response in (record.chosen, record.rejected):
        encoded = encode_response(
            tokenizer,
            record.system,
            record.input,
            response,
            max_length,
            truncate_response=truncate_response,
            prompt_ids=prompt_ids,
        )
        if isinstance(encoded, str):
            return encoded
        sides.append(encoded)
    return EncodedPair(record.idx, sides[0], sides[1])


def encode_for_scoring(tokenizer: Any, system: str | None, prompt: str, response: str, max_length: int) -> list[int]:
    """Tokenises a conversation for scoring; never skips.

    The response is truncated as in training; when even the prompt does not fit,
    the last `max_length` tokens of the full sequence are kept, so the response and
    the end-of-turn token the reward is read at survive.

    Args:
        tokenizer: A `transformers` tokenizer with a chat template.
        system: System prompt or None.
        prompt: User turn.
        response: Assistant turn.
        max_length: Maximum number of tokens.

    Returns:
        Token ids, at most `max_length` of them.
    """
    encoded = encode_response(tokenizer, system, prompt, response, max_length)
    if isinstance(encoded, EncodedSequence):
        return encoded.input_ids
    full = template_ids(tokenizer, build_messages(system, prompt, response), False)
    return full[-max_length:]
