"""Rewrite the generated tables of docs/model.md from the code.

Two blocks are generated, each between its markers:

- ``<!-- params:start -->`` ... ``<!-- params:end -->``: every parameter of ``model.params``
  (``table()``) with its default, range, source and meaning;
- ``<!-- activities:start -->`` ... ``<!-- activities:end -->``: the activity catalogue
  (model/activities.yaml) with level, mixing, sessions, places, cycle, cost and channels;
- ``<!-- channels:start -->`` ... ``<!-- channels:end -->``: the grouped multipliers of the
  catalogue's channel strengths and the cells each scales (``model.activities.channel_group``).

Usage::

    python docs/params_table.py           # rewrite the blocks in docs/model.md
    python docs/params_table.py --check   # exit 1 if a block is out of date (CI, tests)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from common.vocabulary import CHANNELS
from model.activities import MULTIPLIERS, STRENGTH_RANGE, catalogue, channel_group
from model.params import ranges, table

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "model.md"


def _num(x: float) -> str:
    return f"{x:g}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def params_block() -> str:
    """The parameter table, one row per parameter of ``model.params.table()``."""
    lines = ["| parameter | default | range | source | meaning |",
             "| --- | --- | --- | --- | --- |"]
    for row in table():
        lines.append(f"| `{row['name']}` | {_num(row['default'])} | {_num(row['low'])} – {_num(row['high'])} "
                     f"| {_cell(row['source'])} | {_cell(row['meaning'])} |")
    return "\n".join(lines)


def activities_block() -> str:
    """The activity catalogue, one row per activity."""
    lines = [("| activity | programme | level | mixes | eligible | sessions/wk | places | cycle (wk) "
              "| cost/session | channels |"),
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, a in catalogue().items():
        mixes = "groups" if a.mixes_groups else "—"
        if a.mixes_villages:
            mixes += " + villages"
        who = "all" if a.eligible_group_roles is None else ", ".join(a.eligible_group_roles)
        if a.eligible_roles:
            who += f" (roles: {', '.join(a.eligible_roles)})"
        if a.max_wellbeing is not None:
            who += f" (WEMWBS ≤ {_num(a.max_wellbeing)})"
        extras = []
        if a.audience != "all":
            extras.append(f"audience {a.audience}")
        if a.income:
            extras.append("income")
        if a.can_hand_over:
            extras.append("can hand over")
        channels = ", ".join(f"{c} {_num(a.channel(c))}" for c in CHANNELS if a.channel(c) > 0)
        if extras:
            channels += f" ({'; '.join(extras)})"
        lines.append(f"| `{name}` | {a.programme} | {a.level} | {mixes} | {who} | {_num(a.sessions_per_week)} "
                     f"| {a.places_per_session} | {a.cycle_weeks} | {_num(a.cost_per_session)} | {channels} |")
    return "\n".join(lines)


def channels_block() -> str:
    """The grouped multipliers of the channel strengths, one row each, with the cells they scale."""
    lo, hi = STRENGTH_RANGE
    lines = ["| multiplier | range | scales | catalogue cells (activity: channels) |",
             "| --- | --- | --- | --- |"]
    for m, what in [*MULTIPLIERS.items(), (None, "no multiplier: set by name only")]:
        cells = []
        for name, a in catalogue().items():
            mine = [c for c in CHANNELS if a.channel(c) > 0 and channel_group(a, c) == m]
            if mine:
                cells.append(f"`{name}`: {', '.join(mine)}")
        low, high = ranges()[m] if m else (None, None)
        shown = f"{_num(low)} – {_num(high)}" if m else "—"
        lines.append(f"| {f'`{m}`' if m else '—'} | {shown} | {what} | {'; '.join(cells)} |")
    lines.append(f"\nEvery cell is also a parameter of its own, `channel.<activity>.<channel>`, ranged "
                 f"{_num(lo)}x – {_num(hi)}x its catalogue value (`model.activities.strength_ranges`).")
    return "\n".join(lines)


BLOCKS = {"params": params_block, "activities": activities_block, "channels": channels_block}


def _pattern(tag: str) -> re.Pattern:
    return re.compile(rf"(<!-- {tag}:start -->\n)(.*?)(\n?<!-- {tag}:end -->)", re.DOTALL)


def current_block(text: str, tag: str) -> str | None:
    """The text between a block's markers, or None if the markers are missing."""
    m = _pattern(tag).search(text)
    return None if m is None else m.group(2).strip("\n")


def render(text: str) -> str:
    """``text`` with every generated block replaced by its fresh content."""
    for tag, make in BLOCKS.items():
        pat = _pattern(tag)
        if not pat.search(text):
            raise ValueError(f"docs/model.md: markers <!-- {tag}:start --> / <!-- {tag}:end --> not found")
        body = make()
        text = pat.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(3).lstrip("\n"), text, count=1)
    return text


def main(argv: list[str]) -> int:
    text = DOC.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in argv:
        if new != text:
            print("docs/model.md: generated tables are out of date; run `python docs/params_table.py`")
            return 1
        return 0
    if new != text:
        DOC.write_text(new, encoding="utf-8")
        print("docs/model.md: tables updated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
