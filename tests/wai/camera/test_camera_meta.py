"""Camera.from_meta / to_meta and validation errors."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from wai.camera import CAMERA_PARAMS, Camera, CameraModel
from wai.errors import WaiCameraError

from .camera_fixtures import CAMERAS


@pytest.mark.parametrize("model", list(CameraModel), ids=lambda m: m.value)
def test_meta_round_trip(model):
    cam = CAMERAS[model]
    meta = cam.to_meta()
    assert meta["camera_model"] == model.value
    assert set(meta) == {"camera_model", "w", "h", *CAMERA_PARAMS[model]}
    again = Camera.from_meta(meta)
    assert again == cam
    assert hash(again) == hash(cam)


def test_missing_distortion_terms_default_to_zero():
    # The 7-Scenes transforms.json in realdata says OPENCV with no k/p keys; the reference reads those as 0.
    cam = Camera.from_meta(
        {"camera_model": "OPENCV", "fl_x": 585.0, "fl_y": 585.0, "cx": 320, "cy": 240, "w": 640, "h": 480}
    )
    assert cam.params["k1"] == 0.0 and cam.params["p2"] == 0.0
    assert cam.is_pinhole


def test_integral_float_sizes_are_accepted():
    cam = Camera.from_meta(
        {"camera_model": "PINHOLE", "fl_x": 1, "fl_y": 1, "cx": 0, "cy": 0, "w": 1080.0, "h": 1920.0}
    )
    assert (cam.width, cam.height) == (1080, 1920) and isinstance(cam.width, int)


def test_missing_model_is_pinhole_only_without_distortion():
    values = {"fl_x": 500, "fl_y": 500, "cx": 319.5, "cy": 239.5, "w": 640, "h": 480, "k1": 0.0}
    assert Camera.from_meta(values).model is CameraModel.PINHOLE
    with pytest.raises(WaiCameraError, match=r"frame '7'.*camera_model.*missing.*k1"):
        Camera.from_meta({**values, "k1": -0.1}, where="scene 's', frame '7'")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fl_x": None}, r"field 'fl_x': missing"),
        ({"cy": "239.5"}, r"field 'cy': expected a number, got str"),
        ({"fl_y": True}, r"field 'fl_y': expected a number"),
        ({"fl_x": float("nan")}, r"field 'fl_x': expected a finite number"),
        ({"fl_x": -3.0}, r"field 'fl_x': expected a positive focal length"),
        ({"w": 640.5}, r"field 'w': expected a positive integer"),
        ({"h": None}, r"field 'h': missing"),
        ({"camera_model": "KANNALA"}, r"field 'camera_model': unknown model 'KANNALA'"),
        ({"camera_model": 3}, r"field 'camera_model': expected a string"),
        ({"camera_model": "PINHOLE", "k1": -0.2}, r"field 'k1'.*not a coefficient of PINHOLE"),
        ({"omega": 0.5}, r"field 'omega'.*not a coefficient of OPENCV"),
        ({"k2": [0.1]}, r"field 'k2': expected a number, got list"),
    ],
)
def test_bad_values_name_the_field_and_place(change, message):
    values = {
        "camera_model": "OPENCV",
        "fl_x": 500,
        "fl_y": 500,
        "cx": 319.5,
        "cy": 239.5,
        "w": 640,
        "h": 480,
    }
    values.update(change)
    values = {k: v for k, v in values.items() if v is not None}
    with pytest.raises(WaiCameraError, match=r"^scene 'room', frame '0001': " + message):
        Camera.from_meta(values, where="scene 'room', frame '0001'")


def test_zero_coefficients_of_other_models_are_ignored():
    # What a meta written by the reference's undistort stage looks like: PINHOLE with leftover zero k5.
    cam = Camera.from_meta(
        {
            "camera_model": "PINHOLE",
            "fl_x": 1,
            "fl_y": 1,
            "cx": 0,
            "cy": 0,
            "w": 4,
            "h": 4,
            "k5": 0.0,
            "k1": 0,
        }
    )
    assert dict(cam.params) == {"fl_x": 1.0, "fl_y": 1.0, "cx": 0.0, "cy": 0.0}


def test_single_focal_models():
    values = {"camera_model": "SIMPLE_RADIAL", "fl_x": 500, "cx": 1, "cy": 1, "w": 4, "h": 4, "k1": 0.1}
    cam = Camera.from_meta(values)
    assert cam.params["fl_y"] == 500.0
    with pytest.raises(WaiCameraError, match="SIMPLE_RADIAL has one focal length"):
        Camera.from_meta({**values, "fl_y": 501})


def test_direct_construction_validates():
    with pytest.raises(WaiCameraError, match=r"field 'p1': not a coefficient of RADIAL"):
        Camera(CameraModel.RADIAL, 4, 4, {"fl_x": 1, "fl_y": 1, "cx": 0, "cy": 0, "p1": 0.1})
    cam = Camera("OPENCV", 4, 4, {"fl_x": 1, "fl_y": 1, "cx": 0, "cy": 0})
    assert cam.model is CameraModel.OPENCV
    with pytest.raises(TypeError):
        cam.params["k1"] = 1.0  # read-only


@pytest.mark.parametrize("model", list(CameraModel), ids=lambda m: m.value)
def test_cameras_pickle_and_copy(model):
    cam = CAMERAS[model]
    assert pickle.loads(pickle.dumps(cam)) == cam
    assert copy.deepcopy(cam) == cam


def test_pinhole_from_k_and_size():
    K = np.array([[50.0, 0.0, 31.5], [0.0, 52.0, 23.5], [0.0, 0.0, 1.0]], dtype=np.float32)
    cam = Camera.pinhole(K, 64, 48)
    assert cam == Camera(CameraModel.PINHOLE, 64, 48, {"fl_x": 50.0, "fl_y": 52.0, "cx": 31.5, "cy": 23.5})
    assert all(type(v) is float for v in cam.params.values())
    np.testing.assert_array_equal(cam.K, K)
    skewed = K.copy()
    skewed[0, 1] = 0.1
    with pytest.raises(WaiCameraError, match="no skew"):
        Camera.pinhole(skewed, 64, 48)
    with pytest.raises(WaiCameraError, match=r"expected a \(3, 3\) intrinsics matrix K, got shape \(2, 3\)"):
        Camera.pinhole(K[:2], 64, 48)
    with pytest.raises(WaiCameraError, match="fl_x"):
        Camera.pinhole(np.diag([0.0, 52.0, 1.0]), 64, 48)
