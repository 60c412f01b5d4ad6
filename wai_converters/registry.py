"""The one table of converters. `wai datasets`, `wai convert NAME` and the README's coverage table read it."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from wai.errors import WaiError
from wai_converters.base import Converter


@dataclass(frozen=True)
class ConverterEntry:
    """A registered converter: one row of the coverage table that `wai datasets` and the README print."""

    name: str
    target: str  # "module:ClassName", imported only when the converter is used
    description: str  # one line: what the dataset is
    raw_layout: str  # one line: what `--src` must point at, e.g. "<src>/<scene>/{blended_images,cams,rendered_depth_maps}"
    metric: bool  # depth and poses in metres (False: up to an unknown scale, e.g. COLMAP/MVS reconstructions)
    synthetic: bool  # rendered rather than captured
    licence: str  # the raw dataset's licence, as its release states it
    stages: tuple[str, ...] = ()  # `wai` commands to run after conversion before training, in order
    depth: str = "ground truth"  # where depth comes from: "ground truth", "optional", "none (MVS stage)", ...

    def load(self) -> type[Converter]:
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


CONVERTERS: dict[str, ConverterEntry] = {
    entry.name: entry
    for entry in (
        ConverterEntry(
            "synthetic",
            "wai_converters.synthetic:SyntheticConverter",
            "Procedurally rendered rooms and object scenes with exact depth and poses (no download).",
            raw_layout="none: rendered from a seed by wai.synthetic",
            metric=True,
            synthetic=True,
            licence="Apache-2.0 (generated)",
        ),
        ConverterEntry(
            "scannetpp",
            "wai_converters.scannetpp:ScannetppConverter",
            "ScanNet++ v2 DSLR: fisheye images, poses and the laser-scan mesh (then undistort and render).",
            raw_layout="<src>=<release>/data/<scene>/{dslr/{nerfstudio/transforms.json,resized_images,resized_anon_masks,colmap},scans}; <release>/{splits,metadata}",
            metric=True,
            synthetic=False,
            licence="ScanNet++ Terms of Use (non-commercial research)",
            stages=("undistort", "render", "covisibility", "moge"),
            depth="rendered from the mesh (wai render)",
        ),
        ConverterEntry(
            "blendedmvs",
            "wai_converters.blendedmvs:BlendedMVSConverter",
            "BlendedMVS, BlendedMVS+ and BlendedMVS++ (768x576 renders of textured meshes).",
            raw_layout="<src>/<scene>/{blended_images/<id>.jpg, cams/<id>_cam.txt, rendered_depth_maps/<id>.pfm}",
            metric=False,
            synthetic=True,
            licence="CC BY 4.0",
            stages=("covisibility", "moge"),
            depth="ground truth (rendered from the reconstructed mesh, reconstruction units)",
        ),
        ConverterEntry(
            "tav2_wb",
            "wai_converters.tav2_wb:TartanAirV2WBConverter",
            "TartanAir V2 wide-baseline pairs (UFM release), one scene per environment.",
            raw_layout="<src>/<Env>/{images/<pair>_<view>.png, depth/*.exr, camera_params/*.npy (K), poses/*.npy (c2w)}",
            metric=True,
            synthetic=True,
            licence="CC BY 4.0",
            stages=("covisibility", "moge"),
        ),
        ConverterEntry(
            "mpsd",
            "wai_converters.mpsd:MPSDConverter",
            "Mapillary Planet-Scale Depth: street-level images with OpenSfM poses and metric depth.",
            raw_layout="<src>/{train,val}.json, <src>/{train,val}/<key>.{jpg,png}, <src>/reconstruction_data/<split>/<folder>/",
            metric=True,
            synthetic=False,
            licence="CC BY-SA 4.0",
            stages=("covisibility", "moge"),
            depth="ground truth (MVS, centimetre PNG)",
        ),
        ConverterEntry(
            "spring",
            "wai_converters.spring:SpringConverter",
            "Spring: Blender-rendered stereo video (1920x1080) with disparity-derived metric depth.",
            raw_layout="<src>/{train,test}/<NNNN>/{cam_data/{intrinsics,extrinsics}.txt, frame_{left,right}/, disp1_{left,right}/*.dsp5, maps/}",
            metric=True,
            synthetic=True,
            licence="CC BY 4.0",
            stages=("moge", "covisibility"),
            depth="ground truth (from disparity; train split only)",
        ),
        ConverterEntry(
            "unrealstereo4k",
            "wai_converters.unrealstereo4k:UnrealStereo4KConverter",
            "UnrealStereo4K: 4K stereo pairs rendered in Unreal Engine, depth from disparity.",
            raw_layout="<src>/<NNNNN>/{Image0,Image1}/<id>.png, {Disp0,Disp1}/<id>.npy, {Extrinsics0,Extrinsics1}/<id>.txt",
            metric=True,
            synthetic=True,
            licence="MIT",
            stages=("covisibility",),
            depth="ground truth (from disparity)",
        ),
        ConverterEntry(
            "eth3d",
            "wai_converters.eth3d:ETH3DConverter",
            "ETH3D high-res multi-view benchmark: DSLR images with laser-scan depth (undistorted here).",
            raw_layout="<src>/<scene>/{dslr_calibration_{jpg,undistorted}/*.txt, images/dslr_images_undistorted/, ground_truth_depth/dslr_images/}",
            metric=True,
            synthetic=False,
            licence="CC BY-NC-SA 4.0",
            stages=("covisibility", "moge"),
            depth="ground truth (laser scan, resampled from the fisheye camera)",
        ),
        ConverterEntry(
            "dl3dv",
            "wai_converters.dl3dv:DL3DVConverter",
            "DL3DV-10K: distorted OPENCV video frames with COLMAP poses, no depth (MVS depth is a later stage).",
            raw_layout="<src>/<k>K/<scene_hash>/{transforms.json, images/frame_NNNNN.png, colmap/}",
            metric=False,
            synthetic=False,
            licence="DL3DV-10K Terms of Use (non-commercial research)",
            stages=("undistort", "moge", "ingest-depth (MVSAnywhere)", "covisibility", "depth-consistency"),
            depth="none (MVS stage: wai ingest-depth, then wai depth-consistency)",
        ),
        ConverterEntry(
            "aerialmegadepth",
            "wai_converters.aerialmegadepth:AerialMegaDepthConverter",
            "AerialMegaDepth: MegaDepth scenes with co-registered Google Earth aerial views, metric-scaled MVS depth.",
            raw_layout="<src>/aerial_megadepth_all.npz, <src>/aerialmegadepth_segmasks/<scene>/, <src>/<scene>/sfm_output_localization/sfm_superpoint+superglue/localized_dense_metric/{images,depths,sparse-txt}/",
            metric=True,
            synthetic=False,
            licence="research only (Google Earth imagery, MegaDepth photos)",
            stages=("covisibility", "moge"),
            depth="ground truth (metric-scaled COLMAP MVS; ADE20K sky zeroed)",
        ),
        ConverterEntry(
            "mvs_synth",
            "wai_converters.mvs_synth:MVSSynthConverter",
            "MVS-Synth: 120 GTA-V sequences with exact depth and poses (game units / 10 = metres).",
            raw_layout="<src>/<seq>/{images/<NNNN>.png, depths/<NNNN>.exr, poses/<NNNN>.json}",
            metric=True,
            synthetic=True,
            licence="MVS-Synth terms of use (research only; GTA-V frames)",
            stages=("covisibility",),
            depth="ground truth (rendered; sky invalid)",
        ),
        ConverterEntry(
            "paralleldomain4d",
            "wai_converters.paralleldomain4d:ParallelDomain4DConverter",
            "Parallel Domain 4D (GCD release): synthetic multi-camera driving scenes, metric depth.",
            raw_layout="<src>/<scene>/{scene_<sha1>.json, calibration/<sha1>.json, rgb/<camera>/<ts>.png, depth/<camera>/<ts>.npz}",
            metric=True,
            synthetic=True,
            licence="Parallel Domain terms (non-commercial research)",
            stages=("covisibility",),
            depth="ground truth (rendered; 500 m or more invalid)",
        ),
        ConverterEntry(
            "sailvos3d",
            "wai_converters.sailvos3d:SailVos3DConverter",
            "SAIL-VOS 3D: GTA-V video clips with per-frame cameras and depth (NDC, decoded to metres).",
            raw_layout="<src>/<scene>/{images/<id>.bmp, camera/<id>.yaml, depth/<id>.npy, rage_matrices/<id>.npz}",
            metric=True,
            synthetic=True,
            licence="SAIL-VOS terms of use (research only; GTA-V frames)",
            stages=("covisibility",),
            depth="ground truth (rendered NDC depth; sky invalid)",
        ),
        ConverterEntry(
            "dynamicreplica",
            "wai_converters.dynamicreplica:DynamicReplicaConverter",
            "Dynamic Replica: synthetic stereo videos of moving people and animals, metric depth.",
            raw_layout="<src>/frame_annotations_{train,valid,test}.jgz, <src>/<seq>_source_{left,right}/{images,depths}/",
            metric=True,
            synthetic=True,
            licence="CC BY-NC 4.0",
            stages=("covisibility",),
            depth="ground truth (float16 bits in 16-bit PNG)",
        ),
        ConverterEntry(
            "megadepth",
            "wai_converters.megadepth:MegaDepthConverter",
            "MegaDepth (with its Tanks & Temples scenes): Internet photo collections with COLMAP MVS depth.",
            raw_layout="<src>/megadepth_pairs.npz, <src>/<scene>/{dense<k>/{imgs/<name>.jpg, depths/<stem>.h5}, sparse/manhattan/<k>/{cameras,images}.txt}",
            metric=False,
            synthetic=False,
            licence="CC BY 4.0 (images: their Flickr owners' licences)",
            stages=("covisibility", "moge"),
            depth="ground truth (COLMAP MVS, reconstruction units)",
        ),
        ConverterEntry(
            "ase",
            "wai_converters.ase:ASEConverter",
            "Aria Synthetic Environments: rendered Aria fisheye sequences (made pinhole, portrait), metric depth.",
            raw_layout="<src>/<scene>/{gt_trajectory_mps.csv, scene_config.json, render/images/{0,1,2}/{rgb,depth}<idx>.*}; --calib device calibration JSON",
            metric=True,
            synthetic=True,
            licence="ASE dataset licence (non-commercial research)",
            stages=("covisibility",),
            depth="ground truth (ray distance in mm, made z-depth)",
        ),
        ConverterEntry(
            "colmap",
            "wai_converters.colmap:ColmapConverter",
            "Any COLMAP sparse model (text or binary) with its images; dense depth maps if present.",
            raw_layout="<src>[/<capture>]/{images/, sparse/0/ or sparse/ (cameras, images, points3D .txt or .bin), "
            "stereo/depth_maps/<image>.geometric.bin (optional)}",
            metric=False,
            synthetic=False,
            licence="the capture's own",
            stages=("undistort if distorted", "covisibility if depth"),
            depth="optional (COLMAP dense depth maps)",
        ),
        ConverterEntry(
            "nerfstudio",
            "wai_converters.nerfstudio:NerfstudioConverter",
            "Any transforms.json dataset (nerfstudio, instant-ngp); depth_file_path depth if present.",
            raw_layout="<src>[/<capture>]/{transforms.json, the image and depth files it lists}",
            metric=False,
            synthetic=False,
            licence="the capture's own",
            stages=("undistort if distorted", "covisibility if depth"),
            depth="optional (depth_file_path, scaled by depth_unit_scale_factor)",
        ),
    )
}


def get_converter(name: str) -> type[Converter]:
    """The converter class registered as `name`.

    An unregistered name is a `WaiError` listing the known ones; a converter whose optional dependency is missing is
    a `WaiError` naming the missing module. Any other error raised while importing the converter is a bug in it and
    propagates unchanged.
    """
    entry = CONVERTERS.get(name)
    if entry is None:
        raise WaiError(f"unknown converter '{name}'; available: {', '.join(sorted(CONVERTERS))}")
    try:
        return entry.load()
    except ModuleNotFoundError as exc:
        module = entry.target.partition(":")[0]
        if exc.name is None or module == exc.name or module.startswith(exc.name + "."):
            raise  # the converter's own module is missing: a broken registry row, not a user problem
        raise WaiError(
            f"converter '{name}' needs the package '{exc.name}', which is not installed: {exc}"
        ) from exc
