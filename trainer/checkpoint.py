"""Checkpoint folders and the trainer's own resumable state.

A run folder (`--output`) holds:

* `checkpoints/step-0000050/`: `accelerate` state (model, optimizer, scheduler,
  RNG; sharded under FSDP) plus `trainer_state.json` (`TrainState`);
* `train_log.jsonl`, `train_config.json`, `validation.json`;
* `model/`: the exported sequence classifier.

`trainer_state.json` is written last, so a folder without it is an interrupted
save and is ignored by `latest_checkpoint`.
"""

__all__ = [
    "STATE_FILE",
    "TrainState",
    "checkpoint_dir",
    "latest_checkpoint",
    "list_checkpoints",
    "prune_checkpoints",
    "read_state",
    "write_state",
]

import dataclasses
import json
import os
import re
import shutil


STATE_FILE = "trainer_state.json"
_STEP_DIR = re.compile(r"^step-(\d+)$")


@dataclasses.dataclass
class TrainState:
    """Where training stands, saved with every checkpoint.

    Attributes:
        step: Optimizer steps taken.
        epoch: Current epoch (0-based).
        position: Stream rows of the current epoch already consumed.
        tokens: Real (non-pad) tokens trained on so far, all ranks.
        config_id: `TrainConfig.config_id` of the run that wrote it.
    """

    step: int = 0
    epoch: int = 0
    position: int = 0
    tokens: int = 0
    config_id: str = ""


def checkpoint_dir(output: str, step: int) -> str:
    """Returns the checkpoint folder of `step` under run folder `output`."""
    return os.path.join(output, "checkpoints", f"step-{step:07d}")


def list_checkpoints(output: str) -> list[str]:
    """Returns complete checkpoint folders under `output`, oldest first."""
    root = os.path.join(output, "checkpoints")
    if not os.path.isdir(root):
        return []
    found = []
    for name in os.listdir(root):
        match = _STEP_DIR.match(name)
        path = os.path.join(root, name)
        if match and os.path.isfile(os.path.join(path, STATE_FILE)):
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found)]


def latest_checkpoint(output: str) -> str | None:
    """Returns the newest complete checkpoint folder, or None."""
    found = list_checkpoints(output)
    return found[-1] if found else None


def prune_checkpoints(output: str, keep: int) -> list[str]:
    """Deletes all but the newest `keep` checkpoints (keep <= 0 keeps all).

    Returns:
        The deleted folders.
    """
    found = list_checkpoints(output)
    if keep <= 0 or len(found) <= keep:
        return []
    doomed = found[:-keep]
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
    return doomed


def write_state(path: str, state: TrainState) -> None:
    """Writes `state` as `STATE_FILE` inside checkpoint folder `path` (atomically)."""
    os.makedirs(path, exist_ok=True)
    tmp = os.path.join(path, STATE_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(dataclasses.asdict(state), handle, indent=2, sort_keys=True)
    os.replace(tmp, os.path.join(path, STATE_FILE))


def read_state(path: str) -> TrainState:
    """Reads the `TrainState` of checkpoint folder `path`."""
    with open(os.path.join(path, STATE_FILE), encoding="utf-8") as handle:
        return TrainState(**json.load(handle))
