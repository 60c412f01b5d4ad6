"""wai.viz: show WAI views in Rerun (pinhole cameras, images, metric depth, masks, point clouds, covisibility).

The logging takes plain `ViewRecord`s, so anything that can describe a view as arrays (a scene's frames, a
training sample after crop and augmentation) is shown the same way. Rerun is imported only when a recording is
made; `pip install "wai-toolkit[viz]"` brings it.

    from wai.viz import open_recording, scene_views, log_views
    views = scene_views(wai.open_scene("data/synthetic/room_000"), [0, 4, 8])
    sink = Sink(save=Path("room.rrd"))
    rec = open_recording("room_000", sink, views_blueprint(views))
    log_views(rec, views)
    close_recording(rec, sink)
"""

from wai.viz.recording import (
    Sink,
    close_recording,
    log_scene_sequence,
    log_views,
    open_recording,
    sequence_blueprint,
    views_blueprint,
)
from wai.viz.records import ViewRecord, scene_views

__all__ = [
    "Sink",
    "ViewRecord",
    "close_recording",
    "log_scene_sequence",
    "log_views",
    "open_recording",
    "scene_views",
    "sequence_blueprint",
    "views_blueprint",
]
