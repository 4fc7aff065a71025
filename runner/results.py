"""The one writer of results, and the provenance of every result.

``cohesion run``, ``compare`` and ``sweep`` hand ``write`` their tables, figures and summary; it
writes each table by its file's suffix (CSV or Parquet), draws each figure, and writes the
summary with the provenance of the command (command line, package versions, git revision,
date). A file is written under a temporary name and renamed into place, so a file in the folder
is either complete or absent.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd

PACKAGES = ("cohesion-model", "mesa", "numpy", "scipy", "pandas", "networkx", "pydantic", "SALib", "pyabc", "dask",
            "distributed")


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


def provenance() -> dict:
    """What made a result: the command line, package versions, git revision and the date."""
    return {"command": " ".join(["cohesion", *sys.argv[1:]]), "versions": versions(),
            "git_revision": git_revision(), "date": datetime.now(UTC).isoformat(timespec="seconds")}


def write(out: Path, *, tables: dict[str, pd.DataFrame] | None = None,
          figures: dict[str, Callable[[Path], None]] | None = None, summary: dict | None = None,
          summary_name: str = "summary.json", index: set[str] = frozenset()) -> list[str]:
    """Write a results folder; returns the names written, in order.

    ``tables``: file name -> table (``.csv`` or ``.parquet``; names in ``index`` keep their index);
    ``figures``: file name -> a function drawing into that path; ``summary``: written as JSON under
    ``summary_name`` with the provenance (``provenance()``) added.
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
        tmp = out / f".tmp-{summary_name}"
        tmp.write_text(json.dumps({**summary, "provenance": provenance()}, indent=1, default=_plain))
        os.replace(tmp, out / summary_name)
        written.append(summary_name)
    return written


def _plain(value):
    """JSON for numpy numbers and paths."""
    if hasattr(value, "item"):
        return value.item()
    return str(value)
