"""One record per camera model: every trait of a model is read from its `ModelSpec`."""

from __future__ import annotations

import numpy as np
import pytest

from wai.camera import CAMERA_PARAMS, OPTIONAL_PARAMS, Camera, CameraModel
from wai.camera.models import MODELS, ModelSpec, spec_of

from .camera_fixtures import CAMERAS


def test_one_record_per_model_and_the_views_agree() -> None:
    assert list(MODELS) == list(CameraModel)
    for model, spec in MODELS.items():
        assert isinstance(spec, ModelSpec) and spec.model is model and spec_of(model.value) is spec
        assert CAMERA_PARAMS[model] == spec.params
        assert OPTIONAL_PARAMS.get(model, ()) == spec.optional
    assert spec_of(CameraModel.OPENCV).accepted == ("fl_x", "fl_y", "cx", "cy", "k1", "k2", "p1", "p2", "k3")
    assert spec_of(CameraModel.SIMPLE_RADIAL).required == ("fl_x", "cx", "cy")
    assert spec_of(CameraModel.RADIAL).distortion_names == ("k1", "k2")
    assert [m for m, s in MODELS.items() if s.undistorted] == [
        CameraModel.PINHOLE,
        CameraModel.SIMPLE_PINHOLE,
    ]


@pytest.mark.parametrize("model", list(CameraModel), ids=lambda m: m.value)
def test_camera_behaviour_follows_the_record(model: CameraModel) -> None:
    spec = MODELS[model]
    camera = CAMERAS[model]
    assert camera.spec is spec and camera.is_fisheye == spec.fisheye
    rays = camera.unproject(camera.pixel_grid()[::5, ::5].reshape(-1, 2))
    if spec.fisheye or spec.distortion is None:
        np.testing.assert_allclose(np.linalg.norm(rays, axis=-1), 1.0)
    else:
        np.testing.assert_array_equal(rays[:, 2], 1.0)
    if spec.distortion is None:
        return
    if spec.single_focal:
        values = {**camera.to_meta()}
        values.pop("fl_y")
        assert Camera.from_meta(values).params["fl_y"] == camera.params["fl_x"]
    turned = camera.rotated_90()
    for name_x, name_y in spec.rotating_pairs:
        assert (turned.params[name_x], turned.params[name_y]) == (
            camera.params[name_y],
            -camera.params[name_x],
        )
