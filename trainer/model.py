"""Reward model: a `transformers` backbone plus a zero-initialised linear head.

`RewardModel` runs chosen and rejected sequences through the backbone in one
pass (concatenated on the batch axis), reads the final hidden state at each
sequence's last real token, and maps it to a scalar with `reward_head`
(`Linear(hidden, 1, bias=False)`, zero-initialised, so training starts at the
Bradley-Terry loss ln 2). The head runs in float32 with autocast off.

When an LM head is attached (`lambda_lm > 0`), the same pass also returns the
NLL of the chosen response tokens; logits are computed only at those positions.
With `lambda_lm == 0` the backbone is loaded as a bare `AutoModel`, so no LM
head is loaded or run.

`export_sequence_classifier` writes the trained weights as a
`AutoModelForSequenceClassification` checkpoint (num_labels=1, safetensors,
pad_token_id set) with the tokenizer and chat template: `backbone.*` is renamed
to the classifier's base-model prefix (`model.*` for Llama/Qwen2) and
`reward_head.weight` to its head (`score.weight`), then the folder is reloaded
to check that every key was matched.
"""

__all__ = [
    "RewardModel",
    "RewardOutput",
    "enable_activation_checkpointing",
    "ensure_pad_token",
    "export_sequence_classifier",
    "load_reward_model",
    "map_state_dict",
]

import copy
import logging
import os
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F  # noqa: N812 - the usual alias
from torch import nn

from trainer.losses import response_nll
from trainer.tokenization import build_messages, template_ids


logger = logging.getLogger(__name__)

_HEAD_NAMES = ("score", "classifier")


class RewardOutput(NamedTuple):
    """Rewards of a batch of pairs.

    Attributes:
        chosen_rewards: `[B]` float32 rewards of the chosen side.
        rejected_rewards: `[B]` float32 rewards of the rejected side.
        lm_loss: NLL of the chosen response tokens, or None when not computed.
    """

    chosen_rewards: torch.Tensor
    rejected_rewards: torch.Tensor
    lm_loss: torch.Tensor | None


def _pad_width(tensor: torch.Tensor, width: int) -> torch.Tensor:
    return F.pad(tensor, (0, width - tensor.shape[1]))


class RewardModel(nn.Module):
    """Backbone + scalar reward head (+ optional LM head for the LM loss).

    Args:
        backbone: A `transformers` base model returning `last_hidden_state`.
        lm_head: Optional module mapping hidden states to vocabulary logits.
    """

    base_model_prefix = "backbone"

    def __init__(self, backbone: nn.Module, lm_head: nn.Module | None = None) -> None:
        """Builds the reward head on top of `backbone` (see class docstring)."""
        super().__init__()
        self.backbone = backbone
        self.lm_head = lm_head
        hidden = backbone.config.get_text_config().hidden_size
        self.reward_head = nn.Linear(hidden, 1, bias=False)
        nn.init.zeros_(self.reward_head.weight)
        self._no_split_modules = list(getattr(backbone, "_no_split_modules", None) or [])

    def get_input_embeddings(self) -> nn.Module:
        """Returns the backbone's token embedding (used by FSDP wrapping)."""
        return self.backbone.get_input_embeddings()

    def get_output_embeddings(self) -> nn.Module | None:
        """Returns the LM head, if any (used by FSDP wrapping)."""
        return self.lm_head

    def rewards_from_hidden(self, hidden: torch.Tensor, last_index: torch.Tensor) -> torch.Tensor:
        """Reads the reward at `last_index` of each row, in float32.

        Args:
            hidden: `[N, T, H]` final hidden states.
            last_index: `[N]` index of each row's last real token.

        Returns:
            `[N]` float32 rewards.
        """
        rows = torch.arange(hidden.shape[0], device=hidden.device)
        last = hidden[rows, last_index.to(hidden.device)]
        with torch.autocast(device_type=hidden.device.type, enabled=False):
            weight = self.reward_head.weight.float()
            return F.linear(last.float(), weight).squeeze(-1)

    def score(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, last_index: torch.Tensor) -> torch.Tensor:
        """Scores right-padded sequences (outside FSDP: evaluation and tests).

        Args:
            input_ids: `[N, T]` token ids.
            attention_mask: `[N, T]` mask, 1 on real tokens.
            last_index: `[N]` index of each row's last real token.

        Returns:
            `[N]` float32 rewards.
        """
        out = self.backbone(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        return self.rewards_from_hidden(out.last_hidden_state, last_index)

    def forward(
        self,
        chosen_input_ids: torch.Tensor,
        chosen_attention_mask: torch.Tensor,
        chosen_last_index: torch.Tensor,
        rejected_input_ids: torch.Tensor,
        rejected_attention_mask: torch.Tensor,
        rejected_last_index: torch.Tensor,
        chosen_lm_mask: torch.Tensor | None = None,
    ) -> RewardOutput:
        """Scores both sides in one backbone pass; adds the LM loss when asked.

        Args:
            chosen_input_ids: `[B, Tc]` chosen token ids (right-padded).
            chosen_attention_mask: `[B, Tc]`.
            chosen_last_index: `[B]`.
            rejected_input_ids: `[B, Tr]` rejected token ids (right-padded).
            rejected_attention_mask: `[B, Tr]`.
            rejected_last_index: `[B]`.
            chosen_lm_mask: `[B, Tc]` bool, True on chosen response tokens. The LM
                loss is computed only when this is given and an LM head exists.

        Returns:
            A `RewardOutput`.
        """
        batch = chosen_input_ids.shape[0]
        width = max(chosen_input_ids.shape[1], rejected_input_ids.shape[1])
        input_ids = torch.cat([_pad_width(chosen_input_ids, width), _pad_width(rejected_input_ids, width)])
        attention_mask = torch.cat(
            [_pad_width(chosen_attention_mask, width), _pad_width(rejected_attention_mask, width)]
        )
        out = self.backbone(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        hidden = out.last_hidden_state
        rewards = self.rewards_from_hidden(hidden, torch.cat([chosen_last_index, rejected_last_index]))
        lm_loss = None
        if chosen_lm_mask is not None and self.lm_head is not None:
            # Position t predicts token t + 1: keep positions whose next token is a
            # response token, and only project those to the vocabulary.
            targets_mask = chosen_lm_mask[:, 1:].to(hidden.device).bool()
            width_c = chosen_input_ids.shape[1]
            selected = hidden[:batch, : width_c - 1][targets_mask]
            targets = chosen_input_ids[:, 1:].to(hidden.device)[targets_mask]
            lm_loss = response_nll(self.lm_head(selected), targets)
        return RewardOutput(rewards[:batch], rewards[batch:], lm_loss)


def load_reward_model(
    path: str,
    *,
    with_lm_head: bool,
    dtype: torch.dtype | None = None,
    attn_implementation: str | None = None,
    gradient_checkpointing: bool = False,
) -> RewardModel:
    """Loads a backbone from a local folder and wraps it in a `RewardModel`.

    Args:
        path: Local model folder (any `AutoModel` architecture).
        with_lm_head: Also load the LM head (from `AutoModelForCausalLM`, or tied to
            the input embedding when the architecture has no causal-LM class).
        dtype: Parameter dtype; the checkpoint's when None.
        attn_implementation: e.g. `sdpa` or `flash_attention_2`; default when None.
        gradient_checkpointing: Enable non-reentrant activation checkpointing.

    Returns:
        The reward model (reward head zero-initialised).
    """
    from transformers import AutoModel, AutoModelForCausalLM

    kwargs: dict[str, Any] = {"local_files_only": True}
    if dtype is not None:
        kwargs["dtype"] = dtype
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    lm_head = None
    if with_lm_head:
        try:
            causal = AutoModelForCausalLM.from_pretrained(path, **kwargs)
        except ValueError:
            backbone = AutoModel.from_pretrained(path, **kwargs)
            embedding = backbone.get_input_embeddings()
            lm_head = nn.Linear(embedding.weight.shape[1], embedding.weight.shape[0], bias=False)
            lm_head.weight = embedding.weight
        else:
            backbone = causal.base_model
            backbone._no_split_modules = causal._no_split_modules
            lm_head = causal.get_output_embeddings()
    else:
        backbone = AutoModel.from_pretrained(path, **kwargs)
    backbone.config.use_cache = False
    if gradient_checkpointing:
        enable_activation_checkpointing(backbone)
    model = RewardModel(backbone, lm_head)
    if dtype is not None:
        model.reward_head.to(dtype)
    return model


def enable_activation_checkpointing(backbone: nn.Module) -> None:
    """Turns on non-reentrant activation (gradient) checkpointing of a backbone.

    Uses `activation_checkpointing_enable` where `transformers` has it and the
    older `gradient_checkpointing_enable` otherwise.

    Args:
        backbone: A `transformers` model.
    """
    kwargs = {"use_reentrant": False}
    if hasattr(backbone, "activation_checkpointing_enable"):
        backbone.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        backbone.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)


def ensure_pad_token(tokenizer: Any) -> int:
    """Makes sure the tokenizer has a pad token that never ends a sequence.

    `transformers` sequence classifiers read the score at the last token that is
    not the pad token, so the pad token must differ from the last token of a
    templated conversation (otherwise the exported model would read the score one
    token early). A missing pad token is set to the first suitable candidate
    among unk, eos, bos and a few common spare tokens.

    Args:
        tokenizer: A `transformers` tokenizer with a chat template.

    Returns:
        The pad token id.

    Raises:
        ValueError: If no suitable pad token exists.
    """
    probe = build_messages("s", "u", "a")
    last = template_ids(tokenizer, probe, False)[-1]
    if tokenizer.pad_token_id is not None:
        if tokenizer.pad_token_id == last:
            raise ValueError(
                f"pad token {tokenizer.pad_token!r} is also the last token of every templated "
                "conversation; sequence classifiers would read the reward one token early. "
                "Save the tokenizer with a different pad token."
            )
        return tokenizer.pad_token_id
    vocab = tokenizer.get_vocab()
    candidates = [
        tokenizer.unk_token,
        tokenizer.eos_token,
        "<|finetune_right_pad_id|>",
        "<|endoftext|>",
        "<pad>",
        tokenizer.bos_token,
    ]
    for token in candidates:
        if token and token in vocab and vocab[token] != last:
            tokenizer.pad_token = token
            logger.warning("tokenizer has no pad token; using %r", token)
            return tokenizer.pad_token_id
    raise ValueError("tokenizer has no pad token and no suitable substitute; add one")


def map_state_dict(state_dict: dict[str, torch.Tensor], base_prefix: str, head_name: str) -> dict[str, torch.Tensor]:
    """Renames `RewardModel` keys to sequence-classifier keys.

    `backbone.X` becomes `{base_prefix}.X`, `reward_head.weight` becomes
    `{head_name}.weight`, and the LM head is dropped. Wrapper prefixes left by
    `torch.compile` (`_orig_mod.`) are stripped first.

    Args:
        state_dict: A `RewardModel` state dict.
        base_prefix: The classifier's `base_model_prefix` (e.g. `model`).
        head_name: The classifier's head attribute (e.g. `score`).

    Returns:
        The renamed state dict.
    """
    mapped = {}
    for key, value in state_dict.items():
        key = key.replace("_orig_mod.", "")
        if key.startswith("backbone."):
            mapped[f"{base_prefix}.{key.removeprefix('backbone.')}"] = value
        elif key == "reward_head.weight":
            mapped[f"{head_name}.weight"] = value.reshape(1, -1)
    return mapped


def export_sequence_classifier(
    state_dict: dict[str, torch.Tensor],
    config: Any,
    tokenizer: Any,
    output_dir: str,
    *,
    dtype: torch.dtype | None = None,
    verify: bool = True,
) -> str:
    """Writes a `AutoModelForSequenceClassification` folder (safetensors).

    Args:
        state_dict: Full `RewardModel` state dict (already gathered on this rank).
        config: The backbone's `PretrainedConfig`.
        tokenizer: The tokenizer (saved with its chat template).
        output_dir: Destination folder.
        dtype: Cast floating weights to this dtype; unchanged when None.
        verify: Reload the folder and fail if any key is missing or unexpected.

    Returns:
        `output_dir`.

    Raises:
        ValueError: If the architecture's classifier head is not a linear layer
            named `score` or `classifier`, or keys do not match.
    """
    from huggingface_hub import save_torch_state_dict
    from transformers import AutoModelForSequenceClassification

    cfg = copy.deepcopy(config)
    cfg.num_labels = 1
    cfg.problem_type = "regression"
    cfg.pad_token_id = tokenizer.pad_token_id
    cfg.use_cache = True
    with torch.device("meta"):
        classifier = AutoModelForSequenceClassification.from_config(cfg)
    head_name = next((n for n in _HEAD_NAMES if isinstance(getattr(classifier, n, None), nn.Linear)), None)
    if head_name is None:
        raise ValueError(f"{type(classifier).__name__} has no linear `score`/`classifier` head")
    mapped = map_state_dict(state_dict, classifier.base_model_prefix, head_name)
    expected = classifier.state_dict()
    head = getattr(classifier, head_name)
    if head.bias is not None:
        mapped[f"{head_name}.bias"] = torch.zeros(1)
    missing = sorted(set(expected) - set(mapped))
    unexpected = sorted(set(mapped) - set(expected))
    if missing or unexpected:
        raise ValueError(f"export key mismatch: missing={missing[:5]} unexpected={unexpected[:5]}")
    if dtype is not None:
        mapped = {k: v.to(dtype) if v.is_floating_point() else v for k, v in mapped.items()}
        cfg.dtype = dtype
    mapped = {k: v.detach().cpu().contiguous() for k, v in mapped.items()}
    cfg.architectures = [type(classifier).__name__]
    os.makedirs(output_dir, exist_ok=True)
    save_torch_state_dict(mapped, output_dir)
    cfg.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    if verify:
        _, info = AutoModelForSequenceClassification.from_pretrained(
            output_dir, output_loading_info=True, local_files_only=True
        )
        bad = {k: v for k, v in info.items() if k in ("missing_keys", "unexpected_keys") and v}
        if bad:
            raise ValueError(f"exported model at {output_dir} does not reload cleanly: {bad}")
    return output_dir
