"""Synthetic endoscopy: moving surgical instruments of seven classes over tissue, with known tips.

Each frame is a 384 x 216 RGB image (a 16:9 endoscope view): moist tissue (reddish texture with
fat patches, vessels and specular glints, vignetted) that the camera pans over, and one or two
instruments entering from the border. An instrument is a metallic shaft with a coloured band near
its end and a tip whose shape tells its class (grasper jaws, bipolar prongs, a hook, scissor
blades, clip-applier jaws, an irrigation tube, a specimen bag). Instruments advance, sway and
retract, sometimes out of view.

The truth per frame is, for each of the seven classes: presence (the tip is in view), the tip
position normalized to [0, 1] (x right, y down) and the visible mask of the instrument. Scenes
are determined by their seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from holoflow.apps.synthetic._noise import smooth_noise

__all__ = ["HEIGHT", "TOOL_NAMES", "WIDTH", "EndoscopyFrame", "EndoscopyScene"]

WIDTH, HEIGHT = 384, 216
TOOL_NAMES = ("Grasper", "Bipolar", "Hook", "Scissors", "Clipper", "Irrigator", "Spec.Bag")
_BANDS = np.array(  # the coloured band near each instrument's end, by class
    [
        [0.95, 0.85, 0.10],
        [0.15, 0.35, 0.95],
        [0.10, 0.10, 0.10],
        [0.10, 0.85, 0.85],
        [0.10, 0.75, 0.20],
        [0.95, 0.95, 0.95],
        [0.60, 0.20, 0.80],
    ],
    np.float32,
)
_STEEL = np.array([0.72, 0.74, 0.78], np.float32)
_DARK = np.array([0.22, 0.22, 0.25], np.float32)


@dataclass(frozen=True)
class EndoscopyFrame:
    """One frame and its truth."""

    image: np.ndarray
    """``(216, 384, 3)`` uint8 RGB image."""
    present: np.ndarray
    """``(7,)`` bool: the instrument of each class has its tip in view."""
    tips: np.ndarray
    """``(7, 2)`` float32 normalized tip ``(x, y)``; -1 for absent classes."""
    masks: np.ndarray
    """``(7, 216, 384)`` bool: the visible pixels of each class's instrument."""


class _Tool:
    """One instrument's class, look and motion in a scene."""

    def __init__(self, rng: np.random.Generator, kind: int, intermittent: bool) -> None:
        self.kind = kind
        angle = rng.uniform(0, 2 * np.pi)
        ray = np.array([np.cos(angle), np.sin(angle)])
        reach = min((WIDTH / 2 + 25) / max(abs(ray[0]), 1e-6), (HEIGHT / 2 + 25) / max(abs(ray[1]), 1e-6))
        self.entry = np.array([WIDTH / 2, HEIGHT / 2]) + reach * ray  # just outside the border
        self.centre = np.array([rng.uniform(0.3, 0.7) * WIDTH, rng.uniform(0.3, 0.7) * HEIGHT])
        self.amplitude = np.array([rng.uniform(20, 90), rng.uniform(15, 50)])
        self.rates = rng.uniform(0.015, 0.05, 3)
        self.phases = rng.uniform(0, 2 * np.pi, 4)
        self.insertion = (
            (rng.uniform(0.3, 0.6), rng.uniform(0.5, 0.9)) if intermittent else (rng.uniform(0.9, 1.1), 0.3)
        )
        self.radius = rng.uniform(7.0, 11.0)
        self.tip_length = rng.uniform(18.0, 28.0)

    def tip(self, t: int) -> np.ndarray:
        sway = self.amplitude * np.sin(self.rates[:2] * t + self.phases[:2])
        target = self.centre + sway
        base, depth = self.insertion
        s = float(np.clip(base + depth * np.sin(self.rates[2] * t + self.phases[2]), 0.0, 1.0))
        position: np.ndarray = self.entry + s * (target - self.entry)
        return position

    def opening(self, t: int) -> float:
        return float(0.5 + 0.5 * np.sin(0.15 * t + self.phases[3]))


class _Canvas:
    """Draws soft-edged capsules and ellipses into an RGB frame and records each tool's coverage."""

    def __init__(self, image: np.ndarray) -> None:
        self.image = image
        self.ys, self.xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)

    def _box(self, points: np.ndarray, pad: float) -> tuple[slice, slice] | None:
        x0, y0 = np.floor(points.min(axis=0) - pad).astype(int)
        x1, y1 = np.ceil(points.max(axis=0) + pad).astype(int)
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, WIDTH), min(y1, HEIGHT)
        if x0 >= x1 or y0 >= y1:
            return None
        return slice(y0, y1), slice(x0, x1)

    def capsule(
        self, start: np.ndarray, end: np.ndarray, radius: float, colour: np.ndarray, coverage: np.ndarray
    ) -> None:
        """A rod of ``radius`` from ``start`` to ``end``, shaded like a metal cylinder."""
        box = self._box(np.stack([start, end]), radius + 2)
        if box is None:
            return
        px, py = self.xs[box] - start[0], self.ys[box] - start[1]
        axis = end - start
        length2 = max(float(axis @ axis), 1e-6)
        along = np.clip((px * axis[0] + py * axis[1]) / length2, 0, 1)
        dx, dy = px - along * axis[0], py - along * axis[1]
        distance = np.sqrt(dx * dx + dy * dy)
        alpha = np.clip(radius - distance + 0.5, 0, 1)
        across = (dx * -axis[1] + dy * axis[0]) / np.sqrt(length2) / radius  # -1..1 across the rod
        shade = (
            0.55
            + 0.45 * np.cos(np.clip(across, -1, 1) * 1.4)
            + 0.35 * np.exp(-(((across - 0.35) / 0.12) ** 2))
        )
        self._paint(box, alpha, colour[None, None, :] * shade[..., None], coverage)

    def ellipse(
        self,
        centre: np.ndarray,
        direction: np.ndarray,
        half_length: float,
        half_width: float,
        colour: np.ndarray,
        opacity: float,
        coverage: np.ndarray,
    ) -> None:
        """A translucent ellipse (the specimen bag) along ``direction``."""
        box = self._box(centre[None, :], half_length + 2)
        if box is None:
            return
        px, py = self.xs[box] - centre[0], self.ys[box] - centre[1]
        u = (px * direction[0] + py * direction[1]) / half_length
        v = (-px * direction[1] + py * direction[0]) / half_width
        r = np.sqrt(u * u + v * v)
        alpha = np.clip((1 - r) * half_width + 0.5, 0, 1) * opacity
        shade = 0.8 + 0.3 * np.exp(-(((v + 0.4) / 0.3) ** 2))
        self._paint(box, alpha, colour[None, None, :] * shade[..., None], coverage)

    def _paint(
        self, box: tuple[slice, slice], alpha: np.ndarray, rgb: np.ndarray, coverage: np.ndarray
    ) -> None:
        region = self.image[box]
        region += alpha[..., None] * (np.minimum(rgb, 1.0) - region)
        np.maximum(coverage[box], alpha, out=coverage[box])


def _perpendicular(direction: np.ndarray) -> np.ndarray:
    return np.array([-direction[1], direction[0]])


def _draw_tool(canvas: _Canvas, tool: _Tool, t: int, coverage: np.ndarray) -> np.ndarray:
    """Draw ``tool`` at frame ``t``; return its tip (pixels)."""
    tip = tool.tip(t)
    axis = tip - tool.entry
    direction = axis / max(float(np.linalg.norm(axis)), 1e-6)
    side = _perpendicular(direction)
    neck = tip - direction * tool.tip_length
    r = tool.radius
    kind = tool.kind
    opening = tool.opening(t)
    shaft = _STEEL * (0.75 if kind == 2 else 1.0)
    canvas.capsule(tool.entry, neck - direction * 6, r, shaft, coverage)
    canvas.capsule(neck - direction * 16, neck - direction * 4, r + 0.5, _BANDS[kind], coverage)
    if kind == 0:  # grasper: two jaws that open and close
        for sign in (-1, 1):
            canvas.capsule(neck, tip + side * sign * (2 + 6 * opening), 3.0, _DARK * 1.6, coverage)
    elif kind == 1:  # bipolar forceps: two thin parallel prongs
        for sign in (-1, 1):
            canvas.capsule(neck + side * sign * 3.5, tip + side * sign * 3.5, 1.8, _STEEL, coverage)
    elif kind == 2:  # hook: a thin rod bent back at the end
        canvas.capsule(neck, tip, 2.2, _STEEL, coverage)
        canvas.capsule(tip, tip + side * 7 - direction * 5, 2.0, _STEEL, coverage)
    elif kind == 3:  # scissors: two curved blades
        for sign in (-1, 1):
            middle = neck + direction * tool.tip_length * 0.55 + side * sign * (1.5 + 3 * opening)
            canvas.capsule(neck, middle, 3.2, _BANDS[3] * 1.1, coverage)
            canvas.capsule(middle, tip + side * sign * 1.0, 2.2, _BANDS[3] * 1.1, coverage)
    elif kind == 4:  # clip applier: wide, square jaws
        for sign in (-1, 1):
            canvas.capsule(
                neck + side * sign * 3, tip + side * sign * (3 + 2 * opening), 3.8, _STEEL * 0.9, coverage
            )
    elif kind == 5:  # irrigator: a plain tube, slightly thinner, up to the tip
        canvas.capsule(
            neck - direction * 4,
            tip - direction * r * 0.7,
            r * 0.75,
            np.array([0.9, 0.9, 0.92], np.float32),
            coverage,
        )
    else:  # specimen bag: a translucent pouch held at the end
        canvas.capsule(neck - direction * 4, neck + direction * 2, 3.0, _STEEL, coverage)
        centre = (neck + tip) / 2 + direction * 2
        canvas.ellipse(
            centre,
            direction,
            tool.tip_length / 2 + 4,
            r * 1.5,
            np.array([0.75, 0.85, 0.95], np.float32),
            0.85,
            coverage,
        )
    return tip


class EndoscopyScene:
    """A deterministic endoscopy sequence; ``frame(t)`` is frame ``t``.

    Parameters
    ----------
    seed : int
        Chooses the tissue, the camera motion, and the one or two instruments (distinct classes)
        with their motion.
    """

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.seed = seed
        count = 1 if rng.random() < 0.35 else 2
        kinds = rng.choice(len(TOOL_NAMES), size=count, replace=False)
        self.tools = [
            _Tool(rng, int(k), intermittent=i > 0 or rng.random() < 0.3) for i, k in enumerate(kinds)
        ]
        self.texture = self._tissue(rng)
        self.pan = (
            rng.uniform(0, WIDTH),
            rng.uniform(0, HEIGHT),
            rng.uniform(0.005, 0.02),
            rng.uniform(0, 6.3),
        )
        ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
        radius = np.hypot((xs - WIDTH / 2) / (WIDTH * 0.62), (ys - HEIGHT / 2) / (HEIGHT * 0.75))
        self.vignette = np.clip(1.15 - radius**2 * 0.9, 0.12, 1.0)[..., None].astype(np.float32)
        self.noise_seed = int(rng.integers(2**31))

    @staticmethod
    def _tissue(rng: np.random.Generator) -> np.ndarray:
        h, w = 2 * HEIGHT, 2 * WIDTH
        base = smooth_noise(rng, h, w, 120.0, 3)
        fat = smooth_noise(rng, h, w, 90.0, 2)
        vessels = smooth_noise(rng, h, w, 70.0, 2)
        glints = smooth_noise(rng, h, w, 8.0, 2)
        hue = rng.uniform(-0.06, 0.06)
        tissue = np.array([0.80 + hue, 0.36, 0.33 - hue], np.float32) * (0.55 + 0.6 * base[..., None])
        fatness = np.clip((fat - 0.62) * 4, 0, 1)[..., None]
        tissue = tissue * (1 - fatness) + np.array([0.92, 0.78, 0.48], np.float32) * fatness
        vessel = np.exp(-(((vessels - 0.5) / 0.012) ** 2))[..., None]
        tissue = tissue * (1 - 0.6 * vessel) + np.array([0.45, 0.05, 0.08], np.float32) * 0.6 * vessel
        glint = np.clip((glints - 0.85) * 10, 0, 1)[..., None]
        texture: np.ndarray = (tissue * (1 - glint) + glint).astype(np.float32)
        return texture

    def frame(self, t: int) -> EndoscopyFrame:
        """Frame ``t`` (t >= 0) of the sequence."""
        x0, y0, rate, phase = self.pan
        ox = int(x0 + 0.5 * WIDTH * 0.9 * np.sin(rate * t + phase)) % WIDTH
        oy = int(y0 + 0.5 * HEIGHT * 0.9 * np.cos(rate * 0.7 * t + phase)) % HEIGHT
        image = self.texture[oy : oy + HEIGHT, ox : ox + WIDTH].copy()
        canvas = _Canvas(image)
        present = np.zeros(len(TOOL_NAMES), bool)
        tips = np.full((len(TOOL_NAMES), 2), -1.0, np.float32)
        masks = np.zeros((len(TOOL_NAMES), HEIGHT, WIDTH), bool)
        covered = np.zeros((HEIGHT, WIDTH), bool)
        for tool in reversed(self.tools):  # the first tool is drawn last: on top
            coverage = np.zeros((HEIGHT, WIDTH), np.float32)
            tip = _draw_tool(canvas, tool, t, coverage)
            visible = coverage > 0.5
            masks[tool.kind] = visible
            covered |= visible
            if 1 <= tip[0] < WIDTH - 1 and 1 <= tip[1] < HEIGHT - 1:
                present[tool.kind] = True
                tips[tool.kind] = (tip[0] / WIDTH, tip[1] / HEIGHT)
        for tool in self.tools:  # a mask keeps only what the tools drawn later leave visible
            later = np.zeros((HEIGHT, WIDTH), bool)
            for other in self.tools[: self.tools.index(tool)]:
                later |= masks[other.kind]
            masks[tool.kind] &= ~later
        rng = np.random.default_rng((self.noise_seed, t & 0xFFFFFFFF))
        image = image * self.vignette + rng.normal(0, 0.015, image.shape).astype(np.float32)
        pixels = np.clip(image * 255.0, 0, 255).astype(np.uint8)
        return EndoscopyFrame(pixels, present, tips, masks)
