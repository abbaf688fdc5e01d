"""Choosing a V4L2 capture mode — pixel format, frame size, frame interval — as Holoscan does.

Plain functions over what a device reports, so the rules are testable without a device. Each
raises :class:`~holoflow.errors.ResourceError` naming what was asked and what the device offers;
the caller prefixes the operator's label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from holoflow.errors import ResourceError
from holoflow.operators._v4l2_formats import CONVERTIBLE, PREFERENCE

__all__ = ["FrameSizes", "choose_frame_interval", "choose_frame_size", "choose_pixel_format"]


@dataclass(frozen=True)
class FrameSizes:
    """Frame sizes a device offers for one pixel format: one discrete size (``step`` 0), or a
    stepwise or continuous range (``VIDIOC_ENUM_FRAMESIZES``)."""

    min_width: int
    min_height: int
    max_width: int = 0
    max_height: int = 0
    step_width: int = 0
    step_height: int = 0

    @property
    def discrete(self) -> bool:
        """Whether this is one size (``min_width`` x ``min_height``)."""
        return self.step_width == 0

    def fits(self, width: int, height: int) -> bool:
        """Whether ``width`` x ``height`` (0: any) is one of the sizes."""
        if self.discrete:
            return width in (0, self.min_width) and height in (0, self.min_height)
        return _in_range(width, self.min_width, self.max_width, self.step_width) and _in_range(
            height, self.min_height, self.max_height, self.step_height
        )

    def __str__(self) -> str:
        if self.discrete:
            return f"{self.min_width}x{self.min_height}"
        return f"{self.min_width}x{self.min_height} to {self.max_width}x{self.max_height}"


def _in_range(value: int, low: int, high: int, step: int) -> bool:
    return value == 0 or (low <= value <= high and (value - low) % max(step, 1) == 0)


def choose_pixel_format(requested: str, offered: Sequence[str], pass_through: bool) -> str:
    """The pixel format to capture in.

    ``"auto"`` takes the first format of Holoscan's preference list the device offers — with
    ``pass_through`` off, the first of those with an RGBA converter — and, where Holoscan would
    give up, MJPEG when the device offers it and a conversion is wanted. A named format must be
    offered, and with ``pass_through`` off must have a converter.

    Raises
    ------
    holoflow.errors.ResourceError
        If no offered format fits, naming the offered and the usable formats.
    """
    shown = ", ".join(f.strip() for f in offered) or "none"
    if requested != "auto":
        if requested not in offered:
            raise ResourceError(f"the device does not offer pixel format {requested!r}; it offers: {shown}")
        if not pass_through and requested not in CONVERTIBLE:
            raise ResourceError(
                f"pixel format {requested!r} has no RGBA converter ({', '.join(CONVERTIBLE)} have); "
                "set pass_through=True to receive it as captured"
            )
        return requested
    usable = PREFERENCE if pass_through else tuple(f for f in PREFERENCE if f in CONVERTIBLE) + ("MJPG",)
    for fourcc in usable:
        if fourcc in offered:
            return fourcc
    wanted = ", ".join(f.strip() for f in usable)
    raise ResourceError(f"automatic pixel format: the device offers {shown}, none of {wanted}")


def choose_frame_size(
    width: int, height: int, current: tuple[int, int], offered: Sequence[FrameSizes]
) -> tuple[int, int]:
    """The frame size to capture: ``current`` (the device's) when ``width`` and ``height`` are
    both 0, else the first offered size that matches the non-zero ones (a 0 takes that
    dimension from the matching discrete size, or from ``current`` within a range).

    Raises
    ------
    holoflow.errors.ResourceError
        If no offered size matches, listing the sizes.
    """
    if width == 0 and height == 0:
        return current
    for sizes in offered:
        if sizes.fits(width, height):
            if sizes.discrete:
                return sizes.min_width, sizes.min_height
            return width or current[0], height or current[1]
    shown = ", ".join(str(s) for s in offered) or "none reported"
    raise ResourceError(f"the device does not capture {width}x{height}; sizes offered: {shown}")


def choose_frame_interval(
    frame_rate: float, offered: Sequence[tuple[Fraction, Fraction]], settable: bool
) -> Fraction | None:
    """The frame interval (seconds per frame) to set, or ``None`` to leave the device's.

    ``offered`` holds (shortest, longest) interval ranges — a discrete interval is a range of
    one. ``frame_rate`` 0 keeps the device's rate; otherwise the offered interval nearest the
    rate is taken (Holoscan's rule), a range giving the requested interval clamped into it.

    Raises
    ------
    holoflow.errors.ResourceError
        If a rate is requested from a device that cannot set one, or that reports no intervals.
    """
    if frame_rate == 0:
        return None
    if not settable:
        raise ResourceError(f"the device cannot set its frame rate (frame_rate={frame_rate})")
    if not offered:
        raise ResourceError(f"the device reports no frame intervals (frame_rate={frame_rate})")
    wanted = Fraction(1) / Fraction(frame_rate).limit_denominator(1_000_000)
    best: Fraction | None = None
    for shortest, longest in offered:
        candidate = min(max(wanted, shortest), longest)
        if best is None or abs(1 / candidate - frame_rate) < abs(1 / best - frame_rate):
            best = candidate
    return best
