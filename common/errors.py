"""One error type for bad input files, so that every command reports them the same way."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

MAX_YAML_BYTES = 1_000_000
"""Largest YAML input read (bytes). The library's files are a few KB (the largest under 10 KB); the
pure-Python safe loader takes about 12 s per MB of dense YAML on the project's machine, so a 5 MB
file would already parse for a minute."""
MAX_YAML_VALUES = 1_000_000
"""Most values (scalars, lists, mappings) a YAML file may hold once its aliases are expanded: a
few lines of ``&anchor`` and ``*alias`` can otherwise stand for billions of values."""


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


class YAMLInputProblem(yaml.YAMLError):
    """A YAML file that parses but is refused: a key twice in one mapping, too many values."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UniqueKeyLoader(yaml.SafeLoader):
    """The safe loader, refusing a key that appears twice in one mapping (PyYAML keeps the last
    silently). Keys merged in with ``<<: *anchor`` may still be overridden."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:   # an unhashable key: the safe loader refuses it below
                    continue
                line = key_node.start_mark.line + 1
                if first is not None:
                    where = "the same line" if first == line else f"line {first}"
                    raise YAMLInputProblem(f"line {line}: key '{key}' appears twice (first on {where}); "
                                           "allowed: each key once in a mapping")
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _count_values(root: yaml.Node) -> int:
    """Values the document holds once every alias is expanded (a shared node counts each time it is
    used); stops counting past ``MAX_YAML_VALUES``. A node that contains itself is refused."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise YAMLInputProblem(f"line {node.start_mark.line + 1}: an alias refers to the list or mapping "
                                   "that contains it (a cycle); allowed: aliases to earlier, complete values")
        open_nodes.add(key)
        total = 1
        children = node.value if isinstance(node, yaml.SequenceNode) else (
            [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else [])
        for child in children:
            total += size(child)
            if total > MAX_YAML_VALUES:
                break
        open_nodes.discard(key)
        sizes[key] = total
        return total

    return size(root)


def _parse(text: str) -> object:
    """The document of ``text``: composed, its size checked, then constructed (safe loader)."""
    loader = UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _count_values(node) > MAX_YAML_VALUES:
            raise YAMLInputProblem(f"more than {MAX_YAML_VALUES:,} values (lists, mappings and scalars, with "
                                   f"aliases expanded); allowed: at most {MAX_YAML_VALUES:,}")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def is_file(path: str | Path) -> bool:
    """``Path.is_file``, and False (not an exception) for a name the system cannot look up: too
    long, or with a NUL character (either can come from a file's text, e.g. ``extends:``)."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


def read_text(path: Path, max_bytes: int = MAX_YAML_BYTES, kind: str = "YAML") -> str:
    """A user's file as text: it exists, is at most ``max_bytes``, can be read and is UTF-8 (a
    leading byte-order mark, which spreadsheets write, is skipped); else InputError."""
    if not is_file(path):
        raise InputError(path, ["file not found"])
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(path, [f"the file is {size:,} bytes; allowed: at most {max_bytes:,} bytes"])
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, [f"cannot be read ({exc.strerror or exc})"]) from None
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = exc.start + bom
        line = data.count(b"\n", 0, at) + 1
        raise InputError(path, [f"not UTF-8 text: byte 0x{data[at]:02x} at byte offset {at} "
                                f"(line {line}) cannot be decoded; allowed: a {kind} file saved as UTF-8"]) from None


def read_yaml(path: str | Path) -> object:
    """Read a YAML file with the safe loader. A missing, unreadable, too large, non-UTF-8 or unparsable
    file is an InputError, as is a key that appears twice in a mapping or a document that expands to
    too many values through aliases."""
    path = Path(path)
    text = read_text(path)
    try:
        return _parse(text)
    except YAMLInputProblem as exc:
        raise InputError(path, [exc.message]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise InputError(path, [f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    except RecursionError:
        raise InputError(path, ["lists or mappings nested too deeply; allowed: a few levels, as in the "
                                "library's files"]) from None
    except ValueError as exc:   # a scalar the safe loader cannot make: 2025-02-30, a 5000-digit integer
        raise InputError(path, [f"a value cannot be read ({str(exc).split('; use sys.')[0]}); allowed: dates that "
                                "exist, numbers of at most 4300 digits"]) from None
