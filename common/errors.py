"""One error type for bad input files, so that every command reports them the same way."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError


class InputError(ValueError):
    """A user's file is wrong. The message names the file, the field and what is allowed."""

    def __init__(self, path: str | Path, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{self.path}: {len(problems)} problem(s)\n{lines}")


def _location(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def from_validation_error(path: str | Path, err: ValidationError) -> InputError:
    """Turn pydantic's report into one line per problem: field, what is wrong, what is allowed."""
    problems = []
    for e in err.errors():
        loc = _location(tuple(p for p in e["loc"] if not str(p).startswith("function-")))
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (a typo?)"
            ctx_allowed = e.get("ctx", {}).get("allowed")
            if ctx_allowed:
                msg += f"; allowed: {ctx_allowed}"
        problems.append(f"{loc}: {msg}")
    return InputError(path, problems)


def read_yaml(path: str | Path) -> object:
    """Read a YAML file with the safe loader; a missing, unreadable, non-UTF-8 or unparsable file is an
    InputError."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, ["file not found"])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, [f"cannot be read ({exc.strerror or exc})"]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(path, [f"not UTF-8 text: byte 0x{data[exc.start]:02x} at byte offset {exc.start} "
                                f"(line {line}) cannot be decoded; allowed: a YAML file saved as UTF-8"]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise InputError(path, [f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
