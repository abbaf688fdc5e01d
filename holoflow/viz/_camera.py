"""The camera of the 3D layers (``*_3d`` geometry and depth maps): world points to view pixels.

A pinhole camera at ``eye`` looking at ``look_at``, ``up`` pointing up on the screen, with a
60-degree vertical field of view and near/far planes at 0.001 and 1000 (the aspect ratio is the
view's). World coordinates are right-handed: with the default camera (eye at ``(0, 0, 1)``) x
grows to the right, y upwards and z towards the viewer. A view's ``matrix`` (row-major 4x4)
replaces the camera's view-projection for that view.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from holoflow.errors import ConfigError

__all__ = ["Camera"]

FIELD_OF_VIEW_DEGREES = 60.0
NEAR, FAR = 0.001, 1000.0


@dataclass(frozen=True)
class Camera:
    """Where the 3D layers are seen from (HolovizOp's ``camera_eye``, ``camera_look_at``,
    ``camera_up``); each is stored as a tuple of three floats.

    Raises
    ------
    holoflow.errors.ConfigError
        If a vector is not three finite numbers, ``eye`` equals ``look_at``, or ``up`` is
        parallel to the viewing direction.
    """

    eye: Sequence[float] = (0.0, 0.0, 1.0)
    look_at: Sequence[float] = (0.0, 0.0, 0.0)
    up: Sequence[float] = (0.0, 1.0, 0.0)

    def __post_init__(self) -> None:
        for name in ("eye", "look_at", "up"):
            value = getattr(self, name)
            try:
                vector = tuple(float(v) for v in value)
            except (TypeError, ValueError):
                vector = ()
            if len(vector) != 3 or not all(math.isfinite(v) for v in vector):
                raise ConfigError(f"camera_{name} must be three finite numbers, got {value!r}")
            object.__setattr__(self, name, vector)
        forward = np.subtract(self.look_at, self.eye)
        if not np.any(forward):
            raise ConfigError(f"camera_eye and camera_look_at are the same point {self.eye}")
        if not np.any(np.cross(forward, self.up)):
            raise ConfigError(f"camera_up {self.up} is parallel to the viewing direction")

    def view_projection(self, aspect: float) -> np.ndarray:
        """The 4x4 matrix from world coordinates to clip coordinates (OpenGL conventions)."""
        eye = np.asarray(self.eye)
        forward = np.subtract(self.look_at, eye)
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, self.up)
        right /= np.linalg.norm(right)
        up = np.cross(right, forward)
        view = np.identity(4)
        view[0, :3], view[1, :3], view[2, :3] = right, up, -forward
        view[:3, 3] = -view[:3, :3] @ eye
        f = 1.0 / math.tan(math.radians(FIELD_OF_VIEW_DEGREES) / 2.0)
        projection = np.zeros((4, 4))
        projection[0, 0] = f / aspect
        projection[1, 1] = f
        projection[2, 2] = (FAR + NEAR) / (NEAR - FAR)
        projection[2, 3] = 2.0 * FAR * NEAR / (NEAR - FAR)
        projection[3, 2] = -1.0
        result: np.ndarray = projection @ view
        return result

    def project(
        self, points: np.ndarray, width: int, height: int, matrix: Sequence[float] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Project world ``points`` ``(N, 3)`` into a ``width`` x ``height`` view.

        Returns ``(pixels, depth, visible)``: ``(N, 2)`` pixel coordinates (origin top-left),
        ``(N,)`` distance in front of the camera (the clip ``w``), and whether each point lies
        between the near and far planes with finite coordinates. ``matrix`` (16 numbers,
        row-major) replaces the camera's view-projection.
        """
        transform = (
            np.asarray(matrix, np.float64).reshape(4, 4)
            if matrix is not None
            else self.view_projection(width / height)
        )
        homogeneous = np.concatenate([points, np.ones((len(points), 1))], axis=1)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            clip = homogeneous @ transform.T
            w = clip[:, 3]
            visible = np.isfinite(clip).all(axis=1) & (w > 0) & (np.abs(clip[:, 2]) <= w)
            ndc = clip[:, :2] / np.where(visible, w, 1.0)[:, None]
            pixels = np.stack([(ndc[:, 0] + 1.0) * (width / 2.0), (1.0 - ndc[:, 1]) * (height / 2.0)], 1)
        return pixels, w, visible
