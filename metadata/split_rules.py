"""Per-dataset split rules of the reference's `aggregate_scene_names.py`, as data.

Each rule says which scenes are eligible (the folders that must exist) and where test and val come from; train is
every remaining eligible scene, except for BlendedMVS, whose train list follows the DUSt3R id rule too.

Not written in the reference's code, so not invented here: ScanNet++ v2's 30 test and 30 val ids (the reference's
`ScanNetPPSplits`) must be given as files (`--test-list`, `--val-list`), and the 9 BlendedMVS ids that the
reference's curated lists leave out can be given with `--exclude-list`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Where test scenes come from: none, every eligible scene, the rule's fixed ids, or a file the user passes.
TestSource = Literal["none", "all", "fixed", "file"]
#: Where val scenes come from. ``random``: a seeded draw of max(1, int(fraction * N)) scenes;
#: ``blendedmvs``: the DUSt3R rule (last 16 hex digits of the 24-digit id, as an integer, % 10 == 0);
#: ``dl3dv``: the DL3DV-Benchmark csv; ``mpsd``: the release's ``val_recon_folder_names.npy``.
ValSource = Literal["none", "fixed", "file", "random", "blendedmvs", "dl3dv", "mpsd"]


@dataclass(frozen=True)
class SplitRule:
    """How one dataset (the aggregator key, e.g. ``scannetppv2``) is split."""

    name: str
    test: TestSource = "none"
    val: ValSource = "random"
    test_ids: tuple[str, ...] = ()
    val_ids: tuple[str, ...] = ()
    covisibility_dir: str = "covisibility/v0"  # must exist for a scene to be eligible
    depth_dir: str = "depth"  # must exist for a scene to be eligible
    train_rule: Literal["rest", "blendedmvs"] = "rest"


RULES: dict[str, SplitRule] = {
    rule.name: rule
    for rule in (
        SplitRule("eth3d", test="all", val="none"),
        SplitRule("scannetppv2", test="file", val="file", depth_dir="rendered_depth"),
        SplitRule(
            "tav2_wb",
            test="fixed",
            val="fixed",
            test_ids=("DesertGasStation", "OldScandinavia", "PolarSciFi", "Sewerage", "Supermarket"),
            val_ids=("EndofTheWorld", "HongKong", "WesternDesertTown"),
        ),
        SplitRule("megadepth", val="fixed", val_ids=("0015_0", "0015_1", "0022_0")),
        SplitRule("aerialmegadepth", val="fixed", val_ids=("0015", "0022")),
        SplitRule("spring", val="fixed", val_ids=("0013", "0023", "0037")),
        SplitRule("blendedmvs", val="blendedmvs", train_rule="blendedmvs"),
        SplitRule(
            "dl3dv",
            val="dl3dv",
            covisibility_dir="covisibility/v0_mvsa_based",
            depth_dir="mvsanywhere/v0/depth",
        ),
        SplitRule("mpsd", val="mpsd"),
        SplitRule("ase"),
        SplitRule("dynamicreplica"),
        SplitRule("mvs_synth"),
        SplitRule("paralleldomain4d"),
        SplitRule("sailvos3d"),
        SplitRule("unrealstereo4k"),
    )
}


def rule_for(dataset: str) -> SplitRule:
    """The reference's rule for `dataset`; any other dataset gets the default (random 5 % val, rest train)."""
    return RULES.get(dataset, SplitRule(dataset))


def blendedmvs_is_val(scene: str) -> bool | None:
    """The DUSt3R rule: True for val, False for train, None if `scene` is not a 24-hex-digit BlendedMVS id."""
    if len(scene) != 24:
        return None
    try:
        value = int(scene[-16:], 16)
        int(scene, 16)
    except ValueError:
        return None
    return value % 10 == 0
