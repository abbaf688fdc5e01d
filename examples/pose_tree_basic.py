"""A pose tree shared by three operators: where is a tracked tool in the world?

A mobile robot drives around a circle; a camera is bolted on it; the camera tracks a tool. Each
operator knows one transform, and the pose tree composes them::

    world --(odometry, moves)--> base --(mount, fixed)--> camera --(tracking, moves)--> tool

- ``Odometry`` sets ``world_T_base`` at each tick ``t`` and sends ``t`` on;
- ``Tracker`` sets ``camera_T_tool`` at ``t``;
- ``Reporter`` asks the tree for ``world_T_tool`` at ``t``, a chain of three edges, and at
  ``t - 0.5``, between two samples, where each edge is interpolated (translation linearly,
  rotation by slerp).

All three hold the same :class:`~holoflow.pose_tree.PoseTree`, owned by a ``PoseTreeManager``
resource and handed to them as an argument. (Registered with ``register_service``, operators
reach it with ``self.service(PoseTreeManager, "poses").tree`` instead, as in Holoscan.)

Run it with ``python3 examples/pose_tree_basic.py [--ticks N]``.
"""

from __future__ import annotations

import argparse
import math

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.pose_tree import SO3, Pose3, PoseTreeManager

Z_AXIS = [0.0, 0.0, 1.0]
RADIUS = 2.0
"""Metres from the world's origin to the robot."""
TURN_RATE = 0.1
"""Radians per tick around the circle."""


def base_in_world(t: float) -> Pose3:
    """The robot on its circle at time ``t``, heading along it."""
    angle = TURN_RATE * t
    position = [RADIUS * math.cos(angle), RADIUS * math.sin(angle), 0.0]
    return Pose3(SO3.from_axis_angle(Z_AXIS, angle + math.pi / 2), position)


def camera_on_base() -> Pose3:
    """The camera's mount: 0.3 m ahead of the base's centre, 0.5 m up, tilted 30 degrees down."""
    return Pose3(SO3.from_axis_angle([0.0, 1.0, 0.0], math.radians(30)), [0.3, 0.0, 0.5])


def tool_in_camera(t: float) -> Pose3:
    """The tool as the camera sees it at time ``t``: about a metre ahead, swaying."""
    return Pose3.from_translation([0.1 * math.sin(t), 0.05, 1.0 + 0.1 * math.cos(t)])


class Odometry(Operator):
    """Sets ``world_T_base`` at t = 1, 2, ... and sends ``t`` on ``out``."""

    def __init__(self, fragment, *args, manager: PoseTreeManager, **kwargs):
        self.tree = manager.tree
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.t = 0.0

    def compute(self, op_input, op_output, context):
        self.t += 1.0
        self.tree.set("world", "base", self.t, base_in_world(self.t))
        op_output.emit(self.t, "out")


class Tracker(Operator):
    """Sets ``camera_T_tool`` at the time received on ``in`` and passes the time on."""

    def __init__(self, fragment, *args, manager: PoseTreeManager, **kwargs):
        self.tree = manager.tree
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        t = op_input.receive("in")
        self.tree.set("camera", "tool", t, tool_in_camera(t))
        op_output.emit(t, "out")


class Reporter(Operator):
    """Prints where the tool is in the world at each time received, and half a tick before."""

    def __init__(self, fragment, *args, manager: PoseTreeManager, **kwargs):
        self.tree = manager.tree
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        t = op_input.receive("in")
        x, y, z = self.tree.get("world", "tool", t).translation
        print(f"t={t:4.1f}  tool in world  x={x:+.4f} y={y:+.4f} z={z:+.4f}")
        if t > 1.0:
            x, y, z = self.tree.get("world", "tool", t - 0.5).translation
            print(f"t={t - 0.5:4.1f}  interpolated   x={x:+.4f} y={y:+.4f} z={z:+.4f}")

    def stop(self):
        print(f"edges {self.tree.get_edge_names()}, version {self.tree.get_pose_tree_version()}")


class ToolTrackingApp(Application):
    """Odometry -> Tracker -> Reporter, all sharing the tree of one ``PoseTreeManager``."""

    def __init__(self, ticks: int = 5, **kwargs):
        self.ticks = ticks
        super().__init__(**kwargs)

    def compose(self):
        manager = PoseTreeManager(self, name="poses", number_frames=16, default_history_length=64)
        tree = manager.tree
        for frame in ("world", "base", "camera", "tool"):
            tree.create_frame(frame)
        tree.create_edges("world", "base")
        tree.create_edges("base", "camera")
        tree.create_edges("camera", "tool")
        tree.set("base", "camera", 0.0, camera_on_base())  # fixed: later queries keep this pose

        odometry = Odometry(self, CountCondition(self, self.ticks), manager=manager, name="odometry")
        tracker = Tracker(self, manager=manager, name="tracker")
        reporter = Reporter(self, manager=manager, name="reporter")
        self.add_flow(odometry, tracker)
        self.add_flow(tracker, reporter)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=5, help="odometry updates to run")
    args = parser.parse_args()
    ToolTrackingApp(ticks=args.ticks).run()


if __name__ == "__main__":
    main()
