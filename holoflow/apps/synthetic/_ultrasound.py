"""Synthetic B-mode ultrasound of a spine, seen by a linear probe sliding along the back.

Each frame is a 256 x 256 grey image (depth downwards): speckle over layered soft tissue
(skin, fat and fascia lines, muscle texture), attenuated with depth, and the posterior surface of
the vertebrae as a bright curved echo with an acoustic shadow below it. Between vertebrae the bone
is absent and the shadow disappears. The probe moves along the spine (drift plus a slow sway) and
breathes slightly in depth, so consecutive frames differ as a scan does.

The ground truth is the label map the segmenter is trained to produce: 1 on the bone-surface
echo, 0 elsewhere. A scene is fully determined by its seed, so the same seed gives the same
frames and labels everywhere (training, the sample recording, the tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from holoflow.apps.synthetic._noise import box_blur, smooth_noise

__all__ = ["UltrasoundFrame", "UltrasoundScene"]

SIZE = 256
_WORLD = 4096  # columns of the tissue texture along the back (the probe moves over them)


@dataclass(frozen=True)
class UltrasoundFrame:
    """One frame and its truth."""

    image: np.ndarray
    """``(256, 256)`` uint8 B-mode image."""
    labels: np.ndarray
    """``(256, 256)`` uint8: 1 on the bone surface, 0 elsewhere."""


class UltrasoundScene:
    """A deterministic scan of one synthetic spine; ``frame(t)`` is frame ``t`` of the scan.

    Parameters
    ----------
    seed : int
        Chooses the anatomy (vertebra spacing, depth, curvature, tissue layers) and the motion.
    """

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.seed = seed
        self.spacing = rng.uniform(70.0, 120.0)  # pixels between vertebrae along the back
        self.depth = rng.uniform(0.42, 0.62) * SIZE  # bone surface depth
        self.curve = rng.uniform(8.0, 22.0)  # height of the spinous process bumps
        self.ripple = rng.uniform(2.0, 8.0)
        self.phase = rng.uniform(0, 2 * np.pi, 3)
        self.gap = rng.uniform(0.15, 0.55)  # how much of each period has no bone
        self.thickness = rng.uniform(3.0, 6.0)  # bone echo thickness (pixels)
        self.bone_gain = rng.uniform(0.75, 1.0)
        self.attenuation = rng.uniform(1.5, 3.0) / SIZE
        self.gain = rng.uniform(0.85, 1.15)
        self.start = rng.uniform(0, _WORLD)
        self.speed = rng.uniform(0.6, 2.2) * rng.choice([-1.0, 1.0])  # pixels per frame
        self.sway = rng.uniform(5.0, 30.0)
        self.sway_period = rng.uniform(60.0, 160.0)
        self.breath = rng.uniform(1.0, 5.0)
        self.scale = rng.uniform(0.8, 1.25)  # world pixels per image column
        layers = int(rng.integers(2, 5))
        self.layer_depths = np.sort(rng.uniform(0.06, 0.35, layers)) * SIZE
        self.layer_gains = rng.uniform(0.35, 0.8, layers)
        self.layer_waves = rng.uniform(1.0, 6.0, layers)
        self.texture = 0.35 + 0.5 * smooth_noise(rng, SIZE, _WORLD, 48.0, octaves=4)
        self.layer_noise = smooth_noise(rng, layers, _WORLD, 200.0, octaves=2)
        self.noise_seed = int(rng.integers(2**31))

    def _surface(self, world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bone-surface depth (rows) and presence for world positions along the back."""
        u = 2 * np.pi * world / self.spacing
        depth = self.depth - self.curve * np.cos(u + self.phase[0]) ** 2 + self.ripple * np.sin(2 * u)
        present = np.cos(u + self.phase[1]) > (2 * self.gap - 1)
        return depth, present

    def frame(self, t: int) -> UltrasoundFrame:
        """Frame ``t`` (any integer) of the scan."""
        centre = self.start + self.speed * t + self.sway * np.sin(2 * np.pi * t / self.sway_period)
        world = centre + (np.arange(SIZE) - SIZE / 2) * self.scale
        columns = np.mod(world, _WORLD).astype(np.int64)
        breath = self.breath * np.sin(2 * np.pi * t / 90.0 + self.phase[2])
        depth, present = self._surface(world)
        depth = depth + breath
        rows = np.arange(SIZE, dtype=np.float32)[:, None]

        tissue = self.texture[:, columns].copy()
        for i, layer_depth in enumerate(self.layer_depths):
            wave = layer_depth + breath * 0.5 + self.layer_waves[i] * (self.layer_noise[i, columns] - 0.5) * 4
            tissue += self.layer_gains[i] * np.exp(-0.5 * ((rows - wave[None, :]) / 1.6) ** 2)

        below = rows - depth[None, :]
        bone = present[None, :] & (below >= 0) & (below < self.thickness)
        echo = (
            self.bone_gain * 2.6 * np.exp(-0.5 * ((below - self.thickness / 2) / (self.thickness / 2.5)) ** 2)
        )
        tissue = np.where(
            present[None, :] & (np.abs(below - self.thickness / 2) < self.thickness), tissue + echo, tissue
        )
        shadow = np.where(
            present[None, :] & (below >= self.thickness), 0.08 + 0.05 * np.exp(-below / 40.0), 1.0
        )
        tissue = tissue * shadow

        rng = np.random.default_rng((self.noise_seed, t & 0xFFFFFFFF))
        speckle = box_blur(rng.rayleigh(0.8, (SIZE, SIZE)), 1, 3) * 1.25
        intensity = tissue * speckle * np.exp(-self.attenuation * rows) * self.gain
        image = np.log1p(4.0 * np.maximum(intensity, 0)) / np.log1p(4.0 * 1.8)
        pixels = np.clip(image * 255.0, 0, 255).astype(np.uint8)
        return UltrasoundFrame(pixels, bone.astype(np.uint8))
