"""What `wai datasets` prints and the README's coverage table, both rendered from the one registry table."""

from __future__ import annotations

from collections.abc import Mapping

from wai.info import NO_DEPTH_NOTE
from wai_converters.registry import CONVERTERS, ConverterEntry

COLUMNS = (
    "`wai convert`",
    "dataset",
    "raw layout (`--src`)",
    "metric",
    "synthetic",
    "depth",
    "after conversion",
    "licence",
)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _stages(entry: ConverterEntry) -> str:
    return ", ".join(entry.stages) if entry.stages else "-"


def depth_may_be_missing(entry: ConverterEntry) -> bool:
    """Whether a scene of this converter can come out without depth (then `NO_DEPTH_NOTE` applies)."""
    return entry.depth.startswith(("optional", "none"))


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def coverage_table(converters: Mapping[str, ConverterEntry] = CONVERTERS) -> str:
    """The README's coverage table (markdown), one row per converter in name order."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for name in sorted(converters):
        e = converters[name]
        cells = (
            f"`{name}`",
            e.description,
            f"`{e.raw_layout}`",
            _yes(e.metric),
            _yes(e.synthetic),
            e.depth,
            _stages(e),
            e.licence,
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def datasets_text(converters: Mapping[str, ConverterEntry] = CONVERTERS) -> str:
    """`wai datasets`: each converter with its raw layout, flags, depth source and the stages it needs next."""
    width = max(len(n) for n in converters)
    pad = " " * (width + 2)
    blocks = []
    for name in sorted(converters):
        e = converters[name]
        lines = [
            f"{name:<{width}}  {e.description}",
            f"{pad}raw layout:       {e.raw_layout}",
            f"{pad}metric: {_yes(e.metric):<3}  synthetic: {_yes(e.synthetic):<3}  depth: {e.depth}",
            f"{pad}after conversion: {_stages(e)}",
        ]
        if depth_may_be_missing(e):
            lines.append(f"{pad}without depth:    {NO_DEPTH_NOTE.removeprefix('no depth: ')}")
        lines.append(f"{pad}licence:          {e.licence}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks) + "\n"
