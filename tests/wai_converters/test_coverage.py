"""`wai datasets` and the README's coverage table come from the registry, and agree with it."""

from __future__ import annotations

import re
from pathlib import Path

from wai_converters.coverage import coverage_table, depth_may_be_missing
from wai_converters.registry import CONVERTERS
from wai_converters.testing import run_cli

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_table_is_the_generated_one() -> None:
    match = re.search(
        r"<!-- coverage-table:start -->\n(.*?)<!-- coverage-table:end -->", README.read_text(), re.S
    )
    assert match, "README.md has no coverage-table markers"
    assert match.group(1) == coverage_table(), (
        "README coverage table is stale: paste `wai datasets --markdown`"
    )
    assert coverage_table().count("\n| `") == len(CONVERTERS)


def test_datasets_prints_every_registry_field() -> None:
    result = run_cli(["datasets"])
    assert result.exit_code == 0
    blocks = re.split(r"\n(?=\S)", result.output.strip())
    assert [b.split()[0] for b in blocks] == sorted(CONVERTERS)
    for block, name in zip(blocks, sorted(CONVERTERS), strict=True):
        entry = CONVERTERS[name]
        assert entry.description in block and entry.raw_layout in block and entry.licence in block
        assert f"metric: {'yes' if entry.metric else 'no'}" in block
        assert f"synthetic: {'yes' if entry.synthetic else 'no'}" in block
        assert f"depth: {entry.depth}" in block
        assert f"after conversion: {', '.join(entry.stages) or '-'}" in block
        assert ("covisibility and depth losses need depth" in block) == depth_may_be_missing(entry)
    assert run_cli(["datasets", "--markdown"]).output == coverage_table()


def test_importers_say_what_works_without_depth() -> None:
    assert depth_may_be_missing(CONVERTERS["colmap"]) and depth_may_be_missing(CONVERTERS["nerfstudio"])
    assert not depth_may_be_missing(CONVERTERS["synthetic"])
