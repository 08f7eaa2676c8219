"""YAML reading with errors that name the file and line instead of a traceback."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import InputError


def load_yaml(path: str | Path) -> Any:
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", str(p), "check the path")
    try:
        text = p.read_text()
    except OSError as err:
        raise InputError(f"cannot read file ({err.strerror})", str(p), "check permissions") from None
    except UnicodeDecodeError:
        raise InputError("not a text file (invalid UTF-8)", str(p), "give a YAML text file") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        loc = f"{p}:{mark.line + 1}" if mark is not None else str(p)
        problem = getattr(err, "problem", None) or "malformed YAML"
        raise InputError(f"malformed YAML: {problem}", loc, "fix the YAML syntax at that line") from None
    if data is None:
        raise InputError("file is empty", str(p), "add the expected fields")
    return data
