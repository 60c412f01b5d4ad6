"""Log `ViewRecord`s to a Rerun recording, with a blueprint that shows the 3D scene beside each camera's images.

Entity layout (OpenCV axes, declared once as RDF on `world`):

    world/views/<name>              Transform3D (cam2world) + Pinhole (K, resolution)
    world/views/<name>/rgb|depth    Image, DepthImage (metres: meter=1)
    world/views/<name>/mask/<m>     SegmentationImage (0/1), world/views/<name>/scalar/<s> Image (float)
    world/points/<name>             Points3D: the view's depth back-projected, coloured, subsampled
    world/covisibility              LineStrips3D between camera centres whose covisibility passes the threshold

A scene shown whole (`log_scene_sequence`) logs one moving camera `world/camera` on the `frame` timeline, the
point cloud of each frame as it arrives and the trajectory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wai.errors import WaiError
from wai.geometry import depth_to_world_points
from wai.viz.records import ViewRecord

TIMELINE = "frame"


def _rerun() -> Any:
    try:
        import rerun
    except ImportError:
        raise WaiError('wai viz needs the Rerun SDK: pip install "wai-toolkit[viz]"') from None
    return rerun


@dataclass(frozen=True)
class Sink:
    """Where a recording goes: exactly one of a file, a spawned viewer, a served web viewer or a running viewer."""

    save: Path | None = None
    spawn: bool = False
    serve: bool = False
    connect: str | None = None

    def __post_init__(self) -> None:
        chosen = [self.save is not None, self.spawn, self.serve, self.connect is not None]
        if sum(chosen) != 1:
            raise WaiError("choose exactly one of --save FILE, --spawn, --serve and --connect ADDR")


def open_recording(application: str, sink: Sink, blueprint: Any = None) -> Any:
    """A Rerun recording stream sending to `sink`, with `blueprint` as its default layout."""
    rr = _rerun()
    rec = rr.RecordingStream(application)
    if sink.save is not None:
        sink.save.parent.mkdir(parents=True, exist_ok=True)
        rec.save(str(sink.save), default_blueprint=blueprint)
    elif sink.spawn:
        rec.spawn(default_blueprint=blueprint)
    elif sink.serve:
        url = rec.serve_grpc(default_blueprint=blueprint)
        rr.serve_web_viewer(connect_to=url, open_browser=False)
    else:
        rec.connect_grpc(sink.connect, default_blueprint=blueprint)
    rec.log("world", rr.ViewCoordinates.RDF, static=True)
    return rec


def close_recording(rec: Any, sink: Sink) -> None:
    """Finish a recording: flush and close a file (writing its footer) or a viewer connection; a served web viewer
    keeps serving until the process is interrupted."""
    rec.flush()
    if sink.serve:
        import time

        try:
            while True:
                time.sleep(1.0)
        except KeyboardInterrupt:
            pass
    rec.disconnect()


def _entity(name: str) -> str:
    """An entity path part for a frame name (Rerun paths split on '/'; frame names are file stems)."""
    return name.replace("/", "_").replace(" ", "_")


def view_points(view: ViewRecord, max_points: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """World points (P, 3) float32 and their colours (P, 3) uint8 from a view's valid depth, at most `max_points`."""
    if view.depth is None or max_points == 0:
        return np.zeros((0, 3), np.float32), np.zeros((0, 3), np.uint8)
    points, valid = depth_to_world_points(view.depth, view.camera, view.cam2world)
    rows, cols = np.nonzero(valid)
    if rows.size > max_points:
        keep = np.sort(rng.choice(rows.size, size=max_points, replace=False))
        rows, cols = rows[keep], cols[keep]
    return points[rows, cols].astype(np.float32), view.image[rows, cols]


def _log_camera(rec: Any, path: str, view: ViewRecord) -> None:
    rr = _rerun()
    pose = np.asarray(view.cam2world, dtype=np.float64)
    rec.log(path, rr.Transform3D(translation=pose[:3, 3], mat3x3=pose[:3, :3]))
    width, height = view.size
    rec.log(
        path,
        rr.Pinhole(
            image_from_camera=view.camera.K, width=width, height=height, camera_xyz=rr.ViewCoordinates.RDF
        ),
    )
    rec.log(f"{path}/rgb", rr.Image(view.image))
    if view.depth is not None:
        rec.log(f"{path}/depth", rr.DepthImage(view.depth, meter=1.0))
    for name, mask in view.masks.items():
        rec.log(f"{path}/mask/{_entity(name)}", rr.SegmentationImage(mask.astype(np.uint8)))
    for name, values in view.scalars.items():
        rec.log(f"{path}/scalar/{_entity(name)}", rr.Image(values.astype(np.float32)))


def _log_view(
    rec: Any, camera_path: str, view: ViewRecord, max_points: int, rng: np.random.Generator
) -> None:
    """The camera (pose, intrinsics, images) at `camera_path` and the view's coloured points under world/points."""
    _log_camera(rec, camera_path, view)
    points, colors = view_points(view, max_points, rng)
    rec.log(f"world/points/{_entity(view.name)}", _rerun().Points3D(points, colors=colors, radii=-1.5))


def _centres(views: Sequence[ViewRecord]) -> np.ndarray:
    """(N, 3) camera centres: the translations of the cam2world poses."""
    return np.array([np.asarray(v.cam2world)[:3, 3] for v in views])


Edges = Sequence[tuple[int, int, float]]  # (i, j, score in [0, 1]) between view indices


def _log_covisibility(rec: Any, path: str, centres: np.ndarray, pairs: Edges) -> None:
    rr = _rerun()
    if not pairs:
        rec.log(path, rr.Clear(recursive=False))
        return
    strips = [[centres[i], centres[j]] for i, j, _ in pairs]
    strength = np.clip([s for _, _, s in pairs], 0.0, 1.0)
    colors = np.stack([255 * (1 - strength), 255 * strength, 80 + 0 * strength], axis=1).astype(np.uint8)
    rec.log(path, rr.LineStrips3D(strips, colors=colors, radii=0.005))


def log_views(
    rec: Any,
    views: Sequence[ViewRecord],
    *,
    edges: Edges | None = None,
    max_points: int = 20_000,
    seed: int = 0,
) -> None:
    """Log a set of views (static: a multi-view sample has no time) and the covisibility `edges` between them."""
    rng = np.random.default_rng(seed)
    for view in views:
        _log_view(rec, f"world/views/{_entity(view.name)}", view, max_points, rng)
    if edges is not None:
        _log_covisibility(rec, "world/covisibility", _centres(views), edges)


def log_scene_sequence(
    rec: Any,
    views: Sequence[ViewRecord],
    *,
    edges: Edges | None = None,
    max_points: int = 20_000,
    seed: int = 0,
) -> None:
    """Log a whole scene along the `frame` timeline: one moving camera, the growing point cloud, the trajectory.

    With covisibility `edges` between frame indices, each time step draws lines from the current camera to the
    frames it sees.
    """
    rr = _rerun()
    rng = np.random.default_rng(seed)
    centres = _centres(views)
    rec.log(
        "world/trajectory", rr.LineStrips3D([centres], colors=[[200, 200, 200]], radii=0.003), static=True
    )
    for index, view in enumerate(views):
        rec.set_time(TIMELINE, sequence=index)
        _log_view(rec, "world/camera", view, max_points, rng)
        if edges is not None:
            mine = [(index, j if i == index else i, s) for i, j, s in edges if index in (i, j)]
            _log_covisibility(rec, "world/covisibility", centres, mine)


def _3d_contents(cameras: Sequence[str]) -> list[str]:
    """The 3D view shows cameras, images on their image planes and the coloured point clouds. Rerun would also
    back-project every depth image (colour-mapped), which hides the real colours, so those are left out."""
    rules = ["+ /world/**"]
    for camera in cameras:
        rules += [f"- /{camera}/depth", f"- /{camera}/mask/**", f"- /{camera}/scalar/**"]
    return rules


def views_blueprint(views: Sequence[ViewRecord]) -> Any:
    """The 3D scene on the left; on the right a grid of the cameras' RGB above a grid of their depth."""
    rrb = _rerun().blueprint
    columns = 2 if len(views) > 3 else 1

    def grid(kind: str) -> Any:
        return rrb.Grid(
            *[
                rrb.Spatial2DView(
                    name=f"{view.name} {kind}",
                    origin=f"world/views/{_entity(view.name)}",
                    contents=[f"$origin/{kind}"],
                )
                for view in views
            ],
            grid_columns=columns,
        )

    return rrb.Blueprint(
        rrb.Horizontal(
            rrb.Spatial3DView(
                name="3D",
                origin="world",
                contents=_3d_contents([f"world/views/{_entity(v.name)}" for v in views]),
            ),
            rrb.Vertical(grid("rgb"), grid("depth")),
            column_shares=[3, 2],
        ),
        collapse_panels=True,
    )


def sequence_blueprint() -> Any:
    """The 3D scene beside the current camera's RGB, depth and masks, over the `frame` timeline."""
    rrb = _rerun().blueprint
    return rrb.Blueprint(
        rrb.Horizontal(
            rrb.Spatial3DView(name="3D", origin="world", contents=_3d_contents(["world/camera"])),
            rrb.Vertical(
                rrb.Spatial2DView(name="RGB", origin="world/camera", contents=["$origin/rgb"]),
                rrb.Spatial2DView(name="Depth", origin="world/camera", contents=["$origin/depth"]),
                rrb.Spatial2DView(name="Masks", origin="world/camera", contents=["$origin/mask/**"]),
            ),
            column_shares=[3, 1],
        ),
        rrb.BlueprintPanel(state="collapsed"),
        rrb.SelectionPanel(state="collapsed"),
        rrb.TimePanel(timeline=TIMELINE, state="collapsed"),
    )
