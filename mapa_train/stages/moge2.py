"""The MoGe-2 prediction stage (process-log name ``moge``): per-frame metric depth, validity mask and normals.

Writes, with the paths, frame keys and nested modalities of the reference's MoGe stage:

- ``moge/v0/depth/moge2/<frame>.exr``   format ``depth``,   key ``moge2_depth``,   modality ``pred_depth/moge2``
- ``moge/v0/mask/moge2/<frame>.png``    format ``binary``,  key ``moge2_mask``,    modality ``pred_mask/moge2``
- ``moge/v0/normals/moge2/<frame>.exr`` format ``normals``, key ``moge2_normals``, modality ``pred_normals/moge2``
  (only for models with a normal head)

Unlike the reference, outputs are at the image's resolution (not the ≤1600 px model input), depth is always finite
(0 and mask false where the model gives no valid depth), normals are renormalised rather than failing the scene,
and ``device="auto"`` works. The field of view given to the model comes from each frame's pinhole intrinsics; a
distorted scene fails with a message to undistort it first.

from mapa_train.stages.moge2 import predict_moge2
report = predict_moge2("data/eth3d", "checkpoints/moge-2-vitl-normal/model.pt", device="cuda")
"""

from __future__ import annotations

import collections
import functools
import math
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn

from mapa_train.errors import MapaCheckpointError, MapaConfigError, MapaWeightsNotFoundError
from mapa_train.models.geometry import fov_from_focal
from mapa_train.models.key_mapping import map_moge2_state_dict
from mapa_train.models.moge2.model import MoGe2
from mapa_train.models.pretrained import load_official_checkpoint
from mapa_train.models.registry import MODELS, build_from_config, build_model
from mapa_train.models.weights import (
    CONFIG_NAME,
    WEIGHTS_NAME,
    compare_state_dict,
    load_config,
    load_pretrained,
    read_checkpoint,
)
from mapa_train.stages.device import resolve_device
from mapa_train.stages.moge2_infer import (
    infer_moge2,
    model_input_size,
    resize_images,
    resize_prediction,
)
from wai.errors import WaiCameraError, WaiFormatError, where
from wai.scene import SCENE_META, Frame, Scene, open_scene
from wai.scene.modalities import forget_modality
from wai.stages import SlurmOptions, Stage, StageReport, run_stage

STAGE_NAME = "moge"
METHOD = "moge2"
OUT_PATH = "moge/v0"
DEFAULT_MODEL = "moge2_vitl_normal"
HALF_MAX = float(np.finfo(np.float16).max)
OFFICIAL_FILES = ("model.pt", "model.safetensors")
NORMAL_EPS = 1e-6


@dataclass(frozen=True)
class Output:
    """One kind of file the stage writes: modality group, folder under `OUT_PATH`, codec and suffix."""

    group: str
    folder: str
    format: str
    suffix: str

    @property
    def modality(self) -> str:
        return f"{self.group}/{METHOD}"

    @property
    def frame_key(self) -> str:
        return f"{METHOD}_{self.folder}"

    def rel_path(self, frame_name: str) -> str:
        return f"{OUT_PATH}/{self.folder}/{METHOD}/{frame_name}{self.suffix}"


DEPTH = Output("pred_depth", "depth", "depth", ".exr")
MASK = Output("pred_mask", "mask", "binary", ".png")
NORMALS = Output("pred_normals", "normals", "normals", ".exr")
OUTPUTS = (DEPTH, MASK, NORMALS)


@dataclass(frozen=True)
class MoGe2StageConfig:
    """Settings of one MoGe-2 run (picklable: it travels to worker processes and cluster jobs).

    weights:    a folder written by `save_pretrained` (model.safetensors + config.json), or an official MoGe-2
                checkpoint (`model.pt` or a `.safetensors` file, or a folder holding one).
    model_name: registry variant built for an official checkpoint (ignored for `save_pretrained` folders).
    device:     ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
    batch_size: frames per forward pass; a batch only holds images of one size.
    resize:     images whose long side exceeds this run at this long side (the reference's 1600); None or 0: never.
                Outputs are resized back to the image size either way.
    num_tokens: ViT token budget; None: the top of the model's `num_tokens_range` (MoGe's resolution level 9).
    """

    weights: Path
    model_name: str = DEFAULT_MODEL
    device: str = "auto"
    batch_size: int = 4
    resize: int | None = 1600
    num_tokens: int | None = None


# --- weights and the per-process model cache -----------------------------------------------------------------

WeightsKind = Literal["pretrained", "official"]


def weights_source(weights: str | os.PathLike) -> tuple[WeightsKind, Path]:
    """Which loader `weights` needs and the path to hand it; `WaiFileNotFoundError` naming the path if missing."""
    path = Path(weights).expanduser()
    if not path.exists():
        raise MapaWeightsNotFoundError(
            f"MoGe-2 weights not found: '{path}' (expected a folder written by save_pretrained, or an official "
            "MoGe-2 model.pt / .safetensors file from the Hugging Face repo Ruicheng/moge-2-vitl-normal)"
        )
    if path.is_file():
        return "official", path
    if (path / CONFIG_NAME).is_file():
        if not (path / WEIGHTS_NAME).is_file():
            raise MapaWeightsNotFoundError(
                f"MoGe-2 weights not found: '{path / WEIGHTS_NAME}' (next to its {CONFIG_NAME})"
            )
        return "pretrained", path
    for name in OFFICIAL_FILES:
        if (path / name).is_file():
            return "official", path / name
    raise MapaWeightsNotFoundError(
        f"MoGe-2 weights not found in folder '{path}': expected {WEIGHTS_NAME} + {CONFIG_NAME} (save_pretrained) "
        f"or an official {' or '.join(OFFICIAL_FILES)}"
    )


def check_model_name(name: str) -> None:
    """Raise `WaiStageError` unless `name` is a registered MoGe-2 variant."""
    entry = MODELS.get(name)
    if entry is None or entry.family != "moge2":
        variants = sorted(n for n, e in MODELS.items() if e.family == "moge2")
        raise MapaConfigError(f"model {name!r} is not a MoGe-2 variant; expected one of {variants}")


def load_moge2(
    weights: str | os.PathLike, model_name: str = DEFAULT_MODEL, device: str | torch.device = "cpu"
) -> MoGe2:
    """Load MoGe-2 weights (see `MoGe2StageConfig.weights`) onto `device`, in eval mode."""
    kind, path = weights_source(weights)
    device = resolve_device(device)
    if kind == "pretrained":
        model: nn.Module = load_pretrained(path, device=device)
    else:
        check_model_name(model_name)
        model = build_model(model_name, device=device)
        load_official_checkpoint(model, path)
    if not isinstance(model, MoGe2):
        raise MapaCheckpointError(f"'{path}': holds a {type(model).__name__}, expected a MoGe-2 model")
    return model.eval()


def check_weights(weights: str | os.PathLike, model_name: str = DEFAULT_MODEL) -> None:
    """Check, without loading any tensor data, that `weights` can be read and fits the model it will build: the
    model a `save_pretrained` folder describes, or the `model_name` variant for an official file. Raises one error
    that names the file and says what was expected."""
    kind, path = weights_source(weights)
    check_model_name(model_name)
    expected = (
        "expected a folder written by save_pretrained, or an official MoGe-2 model.pt / .safetensors file "
        "from the Hugging Face repo Ruicheng/moge-2-vitl-normal or Ruicheng/moge-2-vitl"
    )
    if kind == "pretrained":
        family, config = load_config(path)
        if family != "moge2":
            raise MapaCheckpointError(
                f"MoGe-2 weights '{path}': the folder holds a {family} model; {expected}"
            )
        with torch.device("meta"):
            model = build_from_config(family, config)
        state = read_checkpoint(path / WEIGHTS_NAME, lazy=True)
        name = config.name
    else:
        model = build_model(model_name, device="meta")
        try:
            state = map_moge2_state_dict(read_checkpoint(path, lazy=True))
        except MapaCheckpointError as exc:
            raise MapaCheckpointError(f"MoGe-2 weights: {exc}; {expected}") from exc
        name = model_name
    report = compare_state_dict(model, state)
    if not report.ok:
        raise MapaCheckpointError(
            f"MoGe-2 weights '{path}' do not fit the {name} model ({report.summary(limit=3)}); check that "
            "--model names the variant the file was trained as (a -normal file needs a model with the normal head)"
        )


_MODEL_CACHE: dict[tuple[str, str, str], MoGe2] = {}


def cached_moge2(config: MoGe2StageConfig) -> tuple[MoGe2, torch.device]:
    """The model for `config`, loaded once per process and reused for every scene this process handles.

    Only one model is kept: asking for other weights or another device frees the previous one.
    """
    device = resolve_device(config.device)
    key = (str(Path(config.weights).expanduser().resolve()), config.model_name, str(device))
    model = _MODEL_CACHE.get(key)
    if model is None:
        _MODEL_CACHE.clear()
        model = load_moge2(config.weights, config.model_name, device)
        _MODEL_CACHE[key] = model
    return model, device


# --- per-frame inputs and outputs -----------------------------------------------------------------------------


def frame_fov_x(scene: Scene, frame: Frame) -> float:
    """Horizontal field of view (degrees) of a pinhole frame; `WaiCameraError` asking to undistort otherwise."""
    camera = frame.camera
    if not camera.is_pinhole:
        raise WaiCameraError(
            f"{where(scene=scene.name, frame=frame.name)}: camera model {camera.model.value} has distortion; "
            "MoGe-2 needs pinhole images: undistort the scene first"
        )
    return math.degrees(fov_from_focal(float(camera.K[0, 0]), float(camera.width)))


def sanitize_outputs(
    depth: np.ndarray, mask: np.ndarray, normal: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Make one frame's outputs storable: depth `(H, W)` finite, >= 0 and within half-float range (else 0 with the
    mask false), mask `(H, W)` bool, normals `(H, W, 3)` unit length or zero (renormalised, zero where masked)."""
    depth = np.asarray(depth, dtype=np.float32)
    valid = np.asarray(mask, dtype=bool) & np.isfinite(depth) & (depth > 0) & (depth <= HALF_MAX)
    depth = np.where(valid, depth, np.float32(0)).astype(np.float32)
    if normal is None:
        return depth, valid, None
    normal = np.asarray(normal, dtype=np.float32)
    length = np.linalg.norm(np.nan_to_num(normal, nan=0.0, posinf=0.0, neginf=0.0), axis=-1, keepdims=True)
    keep = valid[..., None] & np.all(np.isfinite(normal), axis=-1, keepdims=True) & (length > NORMAL_EPS)
    unit = np.divide(normal, length, out=np.zeros_like(normal), where=keep)
    return depth, valid, np.where(keep, unit, np.float32(0)).astype(np.float32)


def _prefetched(frames: Sequence[Frame], ahead: int) -> Iterator[tuple[Frame, np.ndarray]]:
    """(frame, image (H, W, 3) uint8) in order, decoding up to `ahead` images in background threads."""
    with ThreadPoolExecutor(max_workers=min(4, max(1, ahead))) as pool:
        queue: collections.deque[tuple[Frame, Future[np.ndarray]]] = collections.deque()
        remaining = iter(frames)
        for frame in remaining:
            queue.append((frame, pool.submit(lambda f: f.image, frame)))
            if len(queue) >= ahead:
                break
        while queue:
            frame, future = queue.popleft()
            following = next(remaining, None)
            if following is not None:
                queue.append((following, pool.submit(lambda f: f.image, following)))
            yield frame, future.result()


def _batches(
    items: Iterable[tuple[Frame, np.ndarray]], batch_size: int
) -> Iterator[list[tuple[Frame, np.ndarray]]]:
    """Group frames into batches of equal image size (at most `batch_size` each), emitted as they fill."""
    open_batches: dict[tuple[int, ...], list[tuple[Frame, np.ndarray]]] = {}
    for frame, image in items:
        batch = open_batches.setdefault(image.shape, [])
        batch.append((frame, image))
        if len(batch) >= batch_size:
            yield open_batches.pop(image.shape)
    yield from open_batches.values()


def predict_batch(
    model: MoGe2,
    device: torch.device,
    scene: Scene,
    batch: list[tuple[Frame, np.ndarray]],
    fovs: Sequence[float],
    config: MoGe2StageConfig,
    num_tokens: int,
) -> list[tuple[Frame, np.ndarray, np.ndarray, np.ndarray | None]]:
    """Predict one batch of equal-size frames: (frame, depth, mask, normals or None) each, sanitised, image size."""
    first = batch[0][1]
    if first.ndim != 3 or first.shape[2] != 3:
        raise WaiFormatError(
            f"{where(scene=scene.name, frame=batch[0][0].name)}: expected an (H, W, 3) RGB image, got {first.shape}"
        )
    height, width = first.shape[:2]
    pixels = torch.from_numpy(np.stack([image for _, image in batch])).to(device)
    images = pixels.permute(0, 3, 1, 2).float().div_(255.0)
    fov = torch.tensor([fovs[frame.index] for frame, _ in batch], dtype=torch.float32)
    size = model_input_size(height, width, config.resize)
    pred = infer_moge2(model, resize_images(images, size), fov, num_tokens)
    pred = resize_prediction(pred, (height, width))
    depths, masks = pred.depth.cpu().numpy(), pred.mask.cpu().numpy()
    normals = pred.normal.cpu().numpy() if pred.normal is not None else None
    out = []
    for i, (frame, _) in enumerate(batch):
        depth, mask, normal = sanitize_outputs(depths[i], masks[i], None if normals is None else normals[i])
        out.append((frame, depth, mask, normal))
    return out


def predict_frames(
    scene: Scene, config: MoGe2StageConfig
) -> Iterator[tuple[Frame, np.ndarray, np.ndarray, np.ndarray | None]]:
    """(frame, depth, mask, normals or None) for every frame of `scene`, batched by image size."""
    frames = list(scene.frames)
    fovs = [frame_fov_x(scene, frame) for frame in frames]  # fail on a distorted scene before any work
    if not frames:
        return
    model, device = cached_moge2(config)
    num_tokens = config.num_tokens or int(model.config.num_tokens_range[-1])
    for batch in _batches(_prefetched(frames, 2 * config.batch_size), config.batch_size):
        yield from predict_batch(model, device, scene, batch, fovs, config, num_tokens)


# --- the stage --------------------------------------------------------------------------------------------------


def process_scene(scene_dir: Path, config: MoGe2StageConfig) -> None:
    """Predict every frame of one scene and record the outputs in its `scene_meta.json` (saved once, at the end)."""
    scene = open_scene(scene_dir)
    for frame, depth, mask, normal in predict_frames(scene, config):
        for output, data in {DEPTH: depth, MASK: mask, NORMALS: normal}.items():
            if data is None:
                continue
            scene.write_frame_modality(
                output.modality,
                frame.index,
                data,
                format=output.format,
                rel_path=output.rel_path(frame.name),
                frame_key=output.frame_key,
            )
    scene.save_meta()


def _forget_outputs(meta: dict) -> bool:
    """Drop this stage's frame keys and modality leaves from a scene meta; True if anything was removed."""
    changed = False
    for output in OUTPUTS:
        changed |= forget_modality(meta, output.group, METHOD, output.frame_key)
    return changed


def reset_scene(scene_dir: Path) -> None:
    """Remove what an earlier run left: the `moge/v0/` folder and the entries pointing into it in the scene meta."""
    out = Path(scene_dir) / OUT_PATH
    if out.exists():
        shutil.rmtree(out)
    if out.parent.is_dir() and not any(out.parent.iterdir()):
        out.parent.rmdir()
    if not (Path(scene_dir) / SCENE_META).is_file():
        return
    scene = open_scene(scene_dir)
    if _forget_outputs(scene.meta):
        scene.save_meta()


def moge2_stage(config: MoGe2StageConfig) -> Stage:
    """The `wai.stages.Stage` for `config` (needs ``conversion`` finished; picklable for workers and SLURM)."""
    return Stage(
        name=STAGE_NAME,
        process=functools.partial(process_scene, config=config),
        requires=("conversion",),
        reset=reset_scene,
    )


def _check_config(config: MoGe2StageConfig, executor: str) -> None:
    """Fail before any scene runs on settings that would fail every scene."""
    check_weights(config.weights, config.model_name)
    for name in ("batch_size", "num_tokens", "resize"):
        value = getattr(config, name)
        if value is None and name != "batch_size":
            continue
        lowest = 0 if name == "resize" else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
            raise MapaConfigError(f"MoGe-2 stage: {name} must be an integer >= {lowest}, got {value!r}")
    if executor == "local":
        resolve_device(config.device)  # cluster jobs resolve it on their own node


def predict_moge2(
    root: str | os.PathLike,
    weights: str | os.PathLike,
    *,
    model_name: str = DEFAULT_MODEL,
    device: str = "auto",
    batch_size: int = 4,
    resize: int | None = 1600,
    num_tokens: int | None = None,
    scenes: Sequence[str] | None = None,
    overwrite: bool = False,
    workers: int = 1,
    shard: tuple[int, int] | None = None,
    executor: Literal["local", "slurm", "submitit-local"] = "local",
    slurm: SlurmOptions | None = None,
    progress: bool | None = None,
) -> StageReport:
    """Run the MoGe-2 stage on the scenes of `root` (see `MoGe2StageConfig` for the model settings and
    `wai.stages.run_stage` for the rest). Bad weights, model name, device or sizes raise before any scene runs."""
    config = MoGe2StageConfig(
        weights=Path(weights).expanduser().resolve(),
        model_name=model_name,
        device=device,
        batch_size=batch_size,
        resize=resize,
        num_tokens=num_tokens,
    )
    _check_config(config, executor)
    return run_stage(
        moge2_stage(config),
        root,
        scenes=scenes,
        overwrite=overwrite,
        workers=workers,
        shard=shard,
        executor=executor,
        slurm=slurm,
        progress=progress,
    )
