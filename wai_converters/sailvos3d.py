"""`wai convert sailvos3d`: SAIL-VOS 3D, GTA-V video clips with per-frame cameras and NDC depth.

Raw layout (``--src`` holds the clip folders, e.g. ``ah_3a_ext``)::

    <src>/<scene>/images/<id>.bmp             RGB(A) BMP (the folder is required)
    <src>/<scene>/camera/<id>.yaml            YAML (or OpenCV FileStorage) "K" (3x3, principal point as an offset from the image centre) and
                                              "Rt" (3x4 world-to-camera, OpenGL camera axes: +y up, +z back)
    <src>/<scene>/depth/<id>.npy              NDC depth of the game's (RAGE) projection, (H, W) float
    <src>/<scene>/rage_matrices/<id>.npz      "P_inv": the inverse projection (row-vector convention)

Frames: the ids with both a camera file and a BMP, in sorted order (ids on only one side are left out and
reported); each must have its depth and matrices. Output ``images/<id>.png`` (the BMP re-encoded as PNG by OpenCV,
alpha kept, as the reference does) and ``depth/<id>.exr``.

Depth: pixels equal to the sky value 24e-5 (in the array's own dtype) are sky (0). Otherwise d' = d / 6 - 4e-5,
``[2u/(W-1) - 1, 1 - 2v/(H-1), d', 1] @ P_inv``, divided by its 4th component, gives the eye-space point, and the
depth is minus its z (metres). Non-finite or non-positive results are 0.

Intrinsics: fl_x = K[0,0], fl_y = K[1,1], cx = K[0,2] + W/2, cy = K[1,2] + H/2 (W, H of the depth map), as the
reference. Poses: inv([Rt; 0 0 0 1]) turned from OpenGL to OpenCV camera axes (rotation times diag(1, -1, -1)),
recorded as ``opengl2opencv`` in ``_applied_transforms`` (the reference records none).
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from pathlib import Path

import cv2
import numpy as np
import yaml

from wai.camera import Camera, CameraModel
from wai.camera.conventions import apply_transform, invert_rigid, pose_faults
from wai.errors import WaiFormatError, where
from wai.scene import SceneWriter
from wai.stages import SceneResult, StageState
from wai_converters.base import Converter, ConverterConfig
from wai_converters.raw_inputs import (
    expect_shape,
    listed,
    load_npy,
    matrix_field,
    require_dir,
    require_file,
    subdirectories,
)

logger = logging.getLogger(__name__)

#: The value the game writes for sky pixels.
SKY_VALUE = 24e-5
#: d' = d / NDC_SCALE - NDC_OFFSET.
NDC_SCALE = 6.0
NDC_OFFSET = 4e-5
#: Temporary folder (inside the scene) for the re-encoded PNGs, copied into images/ atomically and then removed.
_PNG_TMP = "_bmp_to_png"


@dataclasses.dataclass
class SailVos3DConfig(ConverterConfig):
    """SAIL-VOS 3D needs only ``--src``."""


def _opencv_yaml(path: Path) -> dict[str, object]:
    """K and Rt of a camera file written by OpenCV's FileStorage (``!!opencv-matrix`` nodes)."""
    storage = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
    try:
        out: dict[str, object] = {}
        for key in ("K", "Rt"):
            node = storage.getNode(key)
            if not node.empty():
                matrix = node.mat()
                out[key] = matrix.tolist() if matrix is not None else None
        return out
    finally:
        storage.release()


def read_camera_yaml(path: Path, *, scene: str, frame: str) -> tuple[np.ndarray, np.ndarray]:
    """(K (3, 3), world2cam (4, 4), OpenGL axes) from a camera yaml."""
    require_file(path, "camera file", scene=scene, frame=frame)
    try:
        text = path.read_text()
        data = _opencv_yaml(path) if "!!opencv-matrix" in text else yaml.safe_load(text)
    except (yaml.YAMLError, UnicodeDecodeError, cv2.error) as exc:
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: cannot parse YAML: {exc}"
        ) from exc
    if not isinstance(data, dict) or "K" not in data or "Rt" not in data:
        raise WaiFormatError(f"{where(scene=scene, frame=frame, file=str(path))}: expected keys 'K' and 'Rt'")
    K = matrix_field(data["K"], (3, 3), "K", path, scene=scene, frame=frame)
    w2c = np.eye(4)
    w2c[:3] = matrix_field(data["Rt"], (3, 4), "Rt", path, scene=scene, frame=frame)
    return K, w2c


def read_bmp(path: Path, *, scene: str, frame: str) -> np.ndarray:
    """The BMP's pixels as OpenCV decodes them unchanged (BGR or BGRA), after checking the file is complete."""
    require_file(path, "image", scene=scene, frame=frame)
    blob = path.read_bytes()
    declared = int.from_bytes(blob[2:6], "little") if len(blob) >= 6 else 0
    if not blob.startswith(b"BM") or len(blob) < declared:
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: BMP is truncated or not a BMP "
            f"({len(blob)} bytes, header says {declared})"
        )
    pixels = cv2.imdecode(np.frombuffer(blob, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None:
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: OpenCV cannot decode the BMP"
        )
    return pixels


def read_p_inv(path: Path, *, scene: str, frame: str) -> np.ndarray:
    """The (4, 4) inverse projection ``P_inv`` of a rage_matrices npz."""
    require_file(path, "projection matrices (rage_matrices npz)", scene=scene, frame=frame)
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "P_inv" not in archive.files:
                raise WaiFormatError(
                    f"{where(scene=scene, frame=frame, file=str(path))}: no array 'P_inv' (found {archive.files})"
                )
            p_inv = np.asarray(archive["P_inv"], dtype=np.float64)
    except (OSError, ValueError, EOFError) as exc:
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: cannot read npz: {exc}"
        ) from exc
    return matrix_field(p_inv, (4, 4), "P_inv", path, scene=scene, frame=frame)


def ndc_to_depth(ndc: np.ndarray, p_inv: np.ndarray) -> np.ndarray:
    """(H, W) float32 metric z-depth from the game's NDC depth (sky and bad values 0)."""
    height, width = ndc.shape
    sky = ndc == np.asarray(SKY_VALUE, dtype=ndc.dtype)
    d = ndc.astype(np.float64) / NDC_SCALE - NDC_OFFSET
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    x = 2.0 * u / (width - 1) - 1.0
    y = 1.0 - 2.0 * v / (height - 1)
    points = np.stack([x, y, d, np.ones_like(d)], axis=-1) @ p_inv
    with np.errstate(divide="ignore", invalid="ignore"):
        depth = -points[..., 2] / points[..., 3]
    bad = sky | ~np.isfinite(depth) | (depth <= 0)
    return np.where(bad, 0.0, depth).astype(np.float32)


class SailVos3DConverter(Converter):
    name = "sailvos3d"
    description = "SAIL-VOS 3D: GTA-V video clips with per-frame cameras and depth (NDC, decoded to metres)."
    config_class = SailVos3DConfig

    config: SailVos3DConfig

    def source_scenes(self) -> list[str]:
        return subdirectories(Path(self.config.src))

    def frame_ids(self, raw: Path, scene: str) -> tuple[list[str], list[str]]:
        """(kept ids in sorted order, the files of ids with only a camera file or only an image)."""
        images = {p.stem for p in require_dir(raw / "images", "image", scene=scene).glob("*.bmp")}
        cameras = {p.stem for p in require_dir(raw / "camera", "camera", scene=scene).glob("*.yaml")}
        kept = sorted(cameras & images)
        if not kept:
            raise WaiFormatError(
                f"{where(scene=scene, file=str(raw))}: no id has both camera/<id>.yaml and images/<id>.bmp"
            )
        alone = [f"camera/{i}.yaml (no image)" for i in sorted(cameras - images)]
        alone += [f"images/{i}.bmp (no camera file)" for i in sorted(images - cameras)]
        return kept, alone

    def convert_scene(self, scene: str, out_dir: Path) -> SceneResult:
        raw = Path(self.config.src).absolute() / scene
        ids, unmatched = self.frame_ids(raw, scene)
        tmp = out_dir / _PNG_TMP
        try:
            with SceneWriter(
                out_dir, dataset_name="sailvos3d", scale_type="metric", link_mode="copy"
            ) as writer:
                writer.set("camera_model", "PINHOLE")
                gl2cv = None
                for frame_id in ids:
                    K, w2c = read_camera_yaml(
                        raw / "camera" / f"{frame_id}.yaml", scene=scene, frame=frame_id
                    )
                    depth_path = raw / "depth" / f"{frame_id}.npy"
                    ndc = load_npy(depth_path, "depth map", scene=scene, frame=frame_id)
                    if ndc.ndim != 2 or ndc.dtype.kind != "f":
                        raise WaiFormatError(
                            f"{where(scene=scene, frame=frame_id, file=str(depth_path))}: expected an (H, W) float "
                            f"NDC depth map, got {ndc.dtype} {ndc.shape}"
                        )
                    p_inv = read_p_inv(raw / "rage_matrices" / f"{frame_id}.npz", scene=scene, frame=frame_id)
                    bmp_path = raw / "images" / f"{frame_id}.bmp"
                    pixels = read_bmp(bmp_path, scene=scene, frame=frame_id)
                    expect_shape(
                        ndc,
                        pixels.shape[:2],
                        "depth map (vs. its image)",
                        depth_path,
                        scene=scene,
                        frame=frame_id,
                    )
                    height, width = ndc.shape
                    cam2world, gl2cv = apply_transform(invert_rigid(w2c), "opengl2opencv")
                    faults = pose_faults(cam2world)
                    if faults:
                        raise WaiFormatError(
                            f"{where(scene=scene, frame=frame_id, file=str(raw / 'camera' / f'{frame_id}.yaml'), field='Rt')}: "
                            f"not a rigid world-to-camera pose: {'; '.join(faults)}"
                        )
                    camera = Camera(
                        CameraModel.PINHOLE,
                        width,
                        height,
                        {
                            "fl_x": K[0, 0],
                            "fl_y": K[1, 1],
                            "cx": K[0, 2] + width / 2,
                            "cy": K[1, 2] + height / 2,
                        },
                    )
                    png = tmp / f"{frame_id}.png"
                    png.parent.mkdir(parents=True, exist_ok=True)
                    ok, encoded = cv2.imencode(".png", pixels)
                    if not ok:
                        raise WaiFormatError(
                            f"{where(scene=scene, frame=frame_id, file=str(bmp_path))}: cannot encode PNG"
                        )
                    png.write_bytes(encoded.tobytes())
                    writer.add_frame(
                        frame_id, cam2world, camera=camera, image=png, depth=ndc_to_depth(ndc, p_inv)
                    )
                if gl2cv is not None:
                    writer.record_transform(*gl2cv)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if unmatched:
            message = f"{len(unmatched)} file(s) without their partner, left out: {listed(unmatched)}"
            logger.warning("scene '%s': %s", scene, message)
            return SceneResult(StageState.FINISHED, message)
        return SceneResult()
