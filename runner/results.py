"""The one writer of results, and the one provenance record of every result.

``cohesion run``, ``compare`` and ``sweep`` hand ``write`` their tables, figures and summary; it
writes each table by its file's suffix (CSV or Parquet), draws each figure, and writes the
summary last, with the provenance record of the command (``provenance()``: command line, the
input files' sha256, the settings that make the runs (seeds among them), package versions, git
revision, date) and the sha256 of every file it wrote. A file is written under a temporary name
and renamed into place, so a file in the folder is either complete or absent.

The same record goes into the runner's ``batch.json`` (``runner.batch``) and ``cohesion
calibrate``'s ``summary.json``; ``differences`` names, field by field, what two records disagree
on (what a ``--resume`` refuses and ``cohesion run --reproduce`` reports).

A folder whose results are being remade is marked stale (``mark_stale``): the files its last
summary lists are removed and a ``STALE`` file says which command is making new ones; ``write``
removes the marker when it has written the new summary. So an interrupted batch never leaves
the results of an earlier one looking complete beside its own parts.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd

PACKAGES = ("cohesion-model", "mesa", "numpy", "scipy", "pandas", "networkx", "pydantic", "SALib", "pyabc", "dask",
            "distributed")
STALE = "STALE"
# the fields of a record that say what made a result (not when, nor the exact command line:
# --workers or --resume change neither the runs nor the results)
COMPARED = ("settings", "inputs", "versions", "git_revision")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def git_revision() -> str:
    """The commit of the working tree (with ``+changes`` if it has uncommitted ones), or ``unknown``."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def command_line() -> str:
    """The command as typed (``cohesion`` and its arguments), quoted so that it can be pasted."""
    return shlex.join(["cohesion", *sys.argv[1:]])


def provenance(inputs: Mapping[str, str | Path | None] | None = None, settings: Mapping | None = None) -> dict:
    """What made a result: the command line, the input files (role -> file and the sha256 of its
    bytes; a role whose file does not exist, e.g. ``params: defaults``, is kept with no hash), the
    settings that make the runs (seed, replicates, ...), package versions, git revision and date."""
    files = {}
    for role, path in (inputs or {}).items():
        if path is not None:
            p = Path(path)
            files[role] = {"file": str(path), "sha256": sha256_file(p) if p.is_file() else None}
    return {"command": command_line(), "inputs": files, "settings": dict(settings or {}), "versions": versions(),
            "git_revision": git_revision(), "date": datetime.now(UTC).isoformat(timespec="seconds")}


def _flat(value, prefix: str) -> dict[str, object]:
    if isinstance(value, Mapping) and value:
        out = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}"))
        return out
    return {prefix: value}


def differences(before: Mapping, now: Mapping, fields: tuple[str, ...] = COMPARED) -> list[str]:
    """What two provenance records disagree on, one line per field (``inputs.scenario.sha256:
    'ab12...' before, 'cd34...' now``). Input files are compared by content, not by path."""
    old, new = {}, {}
    for f in fields:
        old.update(_flat(before.get(f), f))
        new.update(_flat(now.get(f), f))
    lines = []
    for key in list(dict.fromkeys([*old, *new])):
        if key.startswith("inputs.") and key.endswith(".file"):
            continue
        a, b = old.get(key, "(absent)"), new.get(key, "(absent)")
        if a != b:
            lines.append(f"{key}: {_short(a)} before, {_short(b)} now")
    return lines


def _short(value) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) or value == "(absent)" else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def mark_stale(out: str | Path, note: str) -> None:
    """The results in ``out`` are being remade: remove the files its summaries list (the summaries
    last) and leave a ``STALE`` file saying so (``note``: which command is making new ones)."""
    out = Path(out)
    if not out.is_dir():
        return
    for summary in sorted(out.glob("*.json")):
        try:
            record = json.loads(summary.read_text()).get("provenance", {})
        except (OSError, ValueError, AttributeError):
            continue
        if not isinstance(record, dict) or "command" not in record:
            continue          # not a summary written by ``write``
        for name in record.get("files", {}):
            if name != summary.name and "/" not in name:
                (out / name).unlink(missing_ok=True)
        summary.unlink(missing_ok=True)
    _atomic_text(out / STALE, note.rstrip() + "\n")


def is_stale(out: str | Path) -> bool:
    return (Path(out) / STALE).is_file()


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write(out: Path, *, tables: dict[str, pd.DataFrame] | None = None,
          figures: dict[str, Callable[[Path], None]] | None = None, summary: dict | None = None,
          summary_name: str = "summary.json", index: set[str] = frozenset(), record: dict | None = None) -> list[str]:
    """Write a results folder; returns the names written, in order.

    ``tables``: file name -> table (``.csv`` or ``.parquet``; names in ``index`` keep their index);
    ``figures``: file name -> a function drawing into that path; ``summary``: written last as JSON
    under ``summary_name`` with the provenance ``record`` (default: ``provenance()``) and the
    sha256 of every file written; then a ``STALE`` marker of the folder is removed.
    """
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in (tables or {}).items():
        tmp = out / f".tmp-{name}"
        if name.endswith(".parquet"):
            df.to_parquet(tmp, index=name in index)
        else:
            df.to_csv(tmp, index=name in index)
        os.replace(tmp, out / name)
        written.append(name)
    for name, draw in (figures or {}).items():
        draw(out / name)
        written.append(name)
    if summary is not None:
        record = {**(record or provenance()), "files": {n: sha256_file(out / n) for n in written}}
        _atomic_text(out / summary_name, json.dumps({**summary, "provenance": record}, indent=1, default=_plain))
        written.append(summary_name)
        (out / STALE).unlink(missing_ok=True)
    return written


def _plain(value):
    """JSON for numpy numbers and paths."""
    if hasattr(value, "item"):
        return value.item()
    return str(value)
