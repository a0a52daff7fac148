"""Training throughput and model FLOP utilisation of the reward-model trainer.

Builds a randomly initialised Qwen2-like model (~0.5B parameters, the shape of
Qwen2.5-0.5B) from a config, wraps it in the trainer's `RewardModel`, and times
full optimizer steps (one backbone pass over chosen + rejected, the trainer's
`reward_loss` with the LM term, backward, AdamW) at sequence length 4096 in bf16
with gradient checkpointing. Sized for a few minutes on one H100.

    python benchmarks/gpu_throughput.py                  # GPU, ~0.5B, seq 4096
    python benchmarks/gpu_throughput.py --tiny           # CPU smoke test (seq 128, 2 steps)

MFU = 6 * N * tokens / seconds / peak, with N the model's parameter count
(embedding included, counted once when tied) and tokens the real tokens of both
sides; `mfu_attn` adds the causal attention term 6 * L * d * T per token
(PaLM-style 12 * L * d * T halved for causal masking). Prints one JSON line and
one Markdown table row.
"""

import argparse
import json
import os
import sys
import time


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

from trainer.losses import reward_loss  # noqa: E402
from trainer.model import RewardModel, enable_activation_checkpointing  # noqa: E402


H100_SXM_BF16_DENSE = 989e12


def build_config(tiny: bool) -> object:
    """Returns the Qwen2 config: ~0.5B (Qwen2.5-0.5B shape) or a tiny one."""
    from transformers import Qwen2Config

    if tiny:
        return Qwen2Config(
            vocab_size=1024,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=512,
            tie_word_embeddings=True,
        )
    return Qwen2Config(
        vocab_size=151_936,
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
        max_position_embeddings=32_768,
        rope_theta=1_000_000.0,
        tie_word_embeddings=True,
    )


def make_batch(batch_size: int, seq_len: int, vocab: int, device: torch.device) -> dict:
    """Random full-length pairs; the second half of each chosen side is the response."""
    generator = torch.Generator().manual_seed(0)

    def ids() -> torch.Tensor:
        return torch.randint(3, vocab, (batch_size, seq_len), generator=generator)

    mask = torch.ones(batch_size, seq_len, dtype=torch.long)
    last = torch.full((batch_size,), seq_len - 1, dtype=torch.long)
    lm_mask = torch.zeros(batch_size, seq_len, dtype=torch.bool)
    lm_mask[:, seq_len // 2 :] = True
    batch = {
        "chosen_input_ids": ids(),
        "chosen_attention_mask": mask,
        "chosen_last_index": last,
        "rejected_input_ids": ids(),
        "rejected_attention_mask": mask.clone(),
        "rejected_last_index": last.clone(),
        "chosen_lm_mask": lm_mask,
    }
    return {k: v.to(device) for k, v in batch.items()}


def main(argv: list[str] | None = None) -> dict:
    """Runs the benchmark and prints the JSON line and Markdown row."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="small config, seq 128, 2 steps (CPU smoke test)")
    parser.add_argument("--seq-len", type=int, default=None, help="tokens per sequence (default 4096; tiny 128)")
    parser.add_argument("--batch-size", type=int, default=2, help="pairs per step (2 sequences each)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default 20; tiny 2)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 3; tiny 1)")
    parser.add_argument("--peak-flops", type=float, default=H100_SXM_BF16_DENSE, help="peak FLOP/s of the chip")
    parser.add_argument("--lambda-lm", type=float, default=0.25, help="LM loss weight (0 skips the LM head)")
    parser.add_argument("--no-grad-ckpt", action="store_true", help="disable gradient checkpointing")
    parser.add_argument("--attn-implementation", default="sdpa", help="sdpa, eager or flash_attention_2")
    args = parser.parse_args(argv)
    seq_len = args.seq_len or (128 if args.tiny else 4096)
    steps = args.steps or (2 if args.tiny else 20)
    warmup = args.warmup if args.warmup is not None else (1 if args.tiny else 3)

    from transformers import AutoModelForCausalLM

    device = torch.device("cuda" if torch.cuda.is_available() and not args.tiny else "cpu")
    use_bf16 = device.type == "cuda"
    torch.manual_seed(0)
    config = build_config(args.tiny)
    causal = AutoModelForCausalLM.from_config(config, attn_implementation=args.attn_implementation)
    lm_head = causal.get_output_embeddings() if args.lambda_lm > 0 else None
    model = RewardModel(causal.base_model, lm_head).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    if not args.no_grad_ckpt:
        enable_activation_checkpointing(model.backbone)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, betas=(0.9, 0.95), fused=device.type == "cuda")
    batch = make_batch(args.batch_size, seq_len, config.vocab_size, device)
    if args.lambda_lm == 0:
        batch.pop("chosen_lm_mask")

    def step() -> float:
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_bf16):
            out = model(**batch)
        loss = reward_loss(out.chosen_rewards, out.rejected_rewards, lm=out.lm_loss, lambda_lm=args.lambda_lm, mu=1e-3)
        loss.total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.5)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss.total.detach())

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(warmup):
        step()
    sync()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    last_loss = 0.0
    for _ in range(steps):
        last_loss = step()
    sync()
    seconds = time.perf_counter() - started
    tokens = 2 * args.batch_size * seq_len * steps
    tokens_per_s = tokens / seconds
    layers, hidden = config.num_hidden_layers, config.hidden_size
    flops_per_token = 6 * n_params
    attn_flops_per_token = 6 * layers * hidden * seq_len
    result = {
        "benchmark": "gpu_throughput",
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "tiny": args.tiny,
        "params": n_params,
        "seq_len": seq_len,
        "pairs_per_step": args.batch_size,
        "steps": steps,
        "dtype": "bf16" if use_bf16 else "fp32",
        "grad_ckpt": not args.no_grad_ckpt,
        "lambda_lm": args.lambda_lm,
        "attn_implementation": args.attn_implementation,
        "seconds": round(seconds, 4),
        "tokens_per_s": round(tokens_per_s, 1),
        "step_s": round(seconds / steps, 4),
        "mfu": tokens_per_s * flops_per_token / args.peak_flops,
        "mfu_attn": tokens_per_s * (flops_per_token + attn_flops_per_token) / args.peak_flops,
        "peak_flops": args.peak_flops,
        "max_memory_gib": round(torch.cuda.max_memory_allocated(device) / 2**30, 2) if device.type == "cuda" else None,
        "loss": last_loss,
    }
    print(json.dumps(result))
    print("| device | params | seq | pairs/step | tokens/s | MFU | MFU (+attn) | step s |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {result['device']} | {n_params / 1e6:.0f}M | {seq_len} | {args.batch_size} | "
        f"{tokens_per_s:,.0f} | {result['mfu']:.1%} | {result['mfu_attn']:.1%} | {result['step_s']:.3f} |"
    )
    return result


if __name__ == "__main__":
    main()
