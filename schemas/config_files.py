"""Reading YAML config files with errors that name the file and the bad field."""

__all__ = ["field_errors", "read_yaml"]

import os
from typing import Any

import pydantic
import yaml


def read_yaml(path: str, what: str) -> Any:
    """Returns a YAML file's data ({} when empty).

    Raises:
        ValueError: the file is missing or not YAML; the message starts with `what path`.
    """
    if not os.path.isfile(path):
        raise ValueError(f"{what} {path}: no such file")
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{what} {path}: not valid YAML ({exc})") from exc


def field_errors(exc: pydantic.ValidationError) -> str:
    """`field.path: message; ...` for each error of a pydantic validation."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
