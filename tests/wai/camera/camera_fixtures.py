"""Realistic cameras of every model, shared by the camera and geometry tests."""

from __future__ import annotations

from wai.camera import Camera, CameraModel

_BASE = {"fl_x": 500.0, "fl_y": 505.0, "cx": 322.5, "cy": 237.5}
_SINGLE = {"fl_x": 500.0, "fl_y": 500.0, "cx": 322.5, "cy": 237.5}
_FISHEYE = {"fl_x": 250.0, "fl_y": 252.0, "cx": 321.0, "cy": 238.0}

CAMERAS: dict[CameraModel, Camera] = {
    CameraModel.PINHOLE: Camera(CameraModel.PINHOLE, 640, 480, _BASE),
    CameraModel.SIMPLE_PINHOLE: Camera(CameraModel.SIMPLE_PINHOLE, 640, 480, _SINGLE),
    CameraModel.SIMPLE_RADIAL: Camera(CameraModel.SIMPLE_RADIAL, 640, 480, {**_SINGLE, "k1": -0.12}),
    CameraModel.RADIAL: Camera(CameraModel.RADIAL, 640, 480, {**_SINGLE, "k1": -0.28, "k2": 0.07}),
    CameraModel.OPENCV: Camera(
        CameraModel.OPENCV, 640, 480, {**_BASE, "k1": -0.28, "k2": 0.07, "p1": 1e-3, "p2": -5e-4}
    ),
    CameraModel.FULL_OPENCV: Camera(
        CameraModel.FULL_OPENCV,
        640,
        480,
        {
            **_BASE,
            "k1": -0.28,
            "k2": 0.07,
            "p1": 1e-3,
            "p2": -5e-4,
            "k3": 5e-3,
            "k4": -0.02,
            "k5": 0.01,
            "k6": 1e-3,
        },
    ),
    CameraModel.FOV: Camera(CameraModel.FOV, 640, 480, {**_BASE, "omega": 0.9}),
    CameraModel.OPENCV_FISHEYE: Camera(
        CameraModel.OPENCV_FISHEYE, 640, 480, {**_FISHEYE, "k1": 0.05, "k2": -0.01, "k3": 3e-3, "k4": -5e-4}
    ),
    CameraModel.THIN_PRISM_FISHEYE: Camera(
        CameraModel.THIN_PRISM_FISHEYE,
        640,
        480,
        {
            **_FISHEYE,
            "k1": 0.05,
            "k2": -0.01,
            "p1": 1e-3,
            "p2": -5e-4,
            "k3": 3e-3,
            "k4": -5e-4,
            "sx1": 1e-3,
            "sy1": -5e-4,
        },
    ),
    CameraModel.RAD_TAN_THIN_PRISM_FISHEYE: Camera(
        CameraModel.RAD_TAN_THIN_PRISM_FISHEYE,
        640,
        480,
        {
            **_FISHEYE,
            "k0": 0.05,
            "k1": -0.01,
            "k2": 3e-3,
            "k3": -5e-4,
            "k4": 1e-5,
            "k5": -1e-6,
            "p0": 1e-3,
            "p1": -5e-4,
            "s0": 1e-3,
            "s1": -1e-4,
            "s2": 5e-4,
            "s3": 2e-5,
        },
    ),
    CameraModel.EQUIRECTANGULAR: Camera(CameraModel.EQUIRECTANGULAR, 800, 400, {}),
}
