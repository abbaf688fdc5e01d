"""PoseTreeManager (a resource owning one tree) and the UCX names of the distributed case."""

from __future__ import annotations

import math

import numpy as np
import pytest

from holoflow.conditions import CountCondition
from holoflow.core import Application, Arg, Fragment, Operator
from holoflow.errors import ConfigError, PoseTreeError
from holoflow.pose_tree import (
    SO3,
    Pose3,
    PoseTree,
    PoseTreeManager,
    PoseTreeUCXClient,
    PoseTreeUCXClientConfig,
    PoseTreeUCXServer,
    PoseTreeUCXServerConfig,
)

HAS_SERVICES = hasattr(Fragment, "register_service")


class TestManager:
    def test_defaults_are_holoscans(self, app):
        manager = PoseTreeManager(app)
        assert manager.name == "noname_resource"
        expected = {
            "port": 13337,
            "number_frames": 1024,
            "number_edges": 16384,
            "history_length": 1048576,
            "default_number_edges": 16,
            "default_history_length": 1024,
            "edges_chunk_size": 4,
            "history_chunk_size": 64,
            "request_timeout_ms": 5000,
            "request_poll_sleep_us": 10,
            "worker_progress_sleep_us": 100,
            "server_shutdown_timeout_ms": 1000,
            "server_shutdown_poll_sleep_ms": 10,
            "maximum_clients": 1024,
        }
        assert {key: getattr(manager, key) for key in expected} == expected
        assert set(manager.spec.params) == set(expected)
        assert "number_frames" in manager.description

    def test_the_tree_is_built_once_with_the_managers_sizes(self, app):
        manager = PoseTreeManager(app, name="poses", number_frames=2)
        tree = manager.tree
        assert isinstance(tree, PoseTree) and manager.tree is tree
        tree.create_frame("a")
        tree.create_frame("b")
        with pytest.raises(PoseTreeError, match="holds 2 frames already"):
            tree.create_frame("c")
        manager.initialize()  # a run initializing the resource keeps the tree
        assert manager.tree is tree and tree.find_frame("b") == 2

    def test_arguments_added_before_first_use_size_the_tree(self, app):
        manager = PoseTreeManager(app, name="poses")
        manager.add_arg(Arg("number_frames", 1))
        manager.tree.create_frame("a")
        with pytest.raises(PoseTreeError, match="holds 1 frames already"):
            manager.tree.create_frame("b")

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"number_frames": 0}, "number_frames must be an int > 0, got 0"),
            ({"history_chunk_size": 2.5}, "history_chunk_size must be an int > 0, got 2.5"),
            ({"port": 80}, r"port must be an int in \[1024, 65535\], got 80"),
            ({"port": "13337"}, "port must be an int"),
            ({"request_timeout_ms": -1}, "request_timeout_ms must be an int >= 0, got -1"),
        ],
    )
    def test_bad_parameters_raise_config_error(self, app, kwargs, message):
        with pytest.raises(ConfigError, match=f"resource 'poses': {message}"):
            PoseTreeManager(app, name="poses", **kwargs)

    def test_a_bad_argument_added_later_fails_when_the_tree_is_built(self, app):
        manager = PoseTreeManager(app, name="poses")
        manager.add_arg(Arg("number_edges", -4))
        with pytest.raises(ConfigError, match="number_edges must be an int > 0, got -4"):
            _ = manager.tree

    @pytest.mark.parametrize(
        ("hook", "args"),
        [
            ("driver_start", ("10.0.0.1",)),
            ("driver_shutdown", ()),
            ("worker_connect", ("10.0.0.1",)),
            ("worker_disconnect", ()),
        ],
    )
    def test_the_distributed_hooks_say_what_is_missing(self, app, hook, args):
        with pytest.raises(PoseTreeError, match=f"^Not available: PoseTreeManager.{hook} shares a pose tree"):
            getattr(PoseTreeManager(app), hook)(*args)


class TestUCX:
    def test_configs_hold_holoscans_defaults(self):
        client = PoseTreeUCXClientConfig()
        assert (client.request_timeout_ms, client.request_poll_sleep_us, client.worker_progress_sleep_us) == (
            5000,
            10,
            100,
        )
        server = PoseTreeUCXServerConfig()
        assert (
            server.worker_progress_sleep_us,
            server.shutdown_timeout_ms,
            server.shutdown_poll_sleep_ms,
            server.maximum_clients,
        ) == (100, 1000, 10, 1024)
        server.maximum_clients = 4
        assert server.maximum_clients == 4

    @pytest.mark.parametrize(
        ("kind", "config"),
        [(PoseTreeUCXServer, PoseTreeUCXServerConfig), (PoseTreeUCXClient, PoseTreeUCXClientConfig)],
    )
    def test_building_a_client_or_server_explains_the_alternative(self, kind, config):
        tree = PoseTree()
        tree.init()
        with pytest.raises(
            PoseTreeError, match=f"^Not available: {kind.__name__} shares a pose tree"
        ) as info:
            kind(tree, config())
        assert "Register a PoseTreeManager with fragment.register_service()" in str(info.value)
        assert "does not do" in str(info.value)
        assert isinstance(info.value, RuntimeError) and info.value.reason == "Not available"


class Orbit(Operator):
    """Sets the pose of "moon" in "earth" at t = 1, 2, ... and sends t on "out"."""

    def __init__(self, fragment, *args, manager, **kwargs):
        self.tree = manager.tree
        super().__init__(fragment, *args, **kwargs)
        self.tree.create_frame("earth")
        self.tree.create_frame("moon")
        self.tree.create_edges("earth", "moon")

    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.t = 0.0

    def compute(self, op_input, op_output, context):
        self.t += 1.0
        turn = SO3.from_axis_angle([0.0, 0.0, 1.0], self.t)
        self.tree.set("earth", "moon", self.t, Pose3(turn, [math.cos(self.t), math.sin(self.t), 0.0]))
        op_output.emit(self.t, "out")


class Where(Operator):
    """Reads the moon's pose at each time it receives, and half a step before."""

    def __init__(self, fragment, *args, manager, **kwargs):
        self.tree = manager.tree
        self.seen: list[tuple[float, list[float], list[float]]] = []
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        t = op_input.receive("in")
        now = self.tree.get("earth", "moon", t).translation.tolist()
        before = self.tree.get("moon", "earth", t - 0.5).inverse().translation.tolist() if t > 1 else now
        self.seen.append((t, now, before))


def test_operators_share_the_managers_tree_under_every_scheduler(use_scheduler):
    app = Application([])
    manager = PoseTreeManager(app, name="poses", number_frames=8)
    orbit = Orbit(app, CountCondition(app, 12), manager=manager, name="orbit")
    where = Where(app, manager=manager, name="where")
    app.add_flow(orbit, where)
    use_scheduler(app)
    app.run()
    assert [t for t, _, _ in where.seen] == [float(k) for k in range(1, 13)]
    for t, now, before in where.seen:
        np.testing.assert_allclose(now, [math.cos(t), math.sin(t), 0.0], atol=1e-12)
        if t > 1:  # halfway between two samples: the mean of their translations
            mid = [(math.cos(t) + math.cos(t - 1)) / 2, (math.sin(t) + math.sin(t - 1)) / 2, 0.0]
            np.testing.assert_allclose(before, mid, atol=1e-12)


@pytest.mark.skipif(not HAS_SERVICES, reason="needs fragment services (Fragment.register_service)")
def test_operators_reach_the_tree_as_a_fragment_service():
    class Reader(Operator):
        def __init__(self, fragment, *args, **kwargs):
            super().__init__(fragment, *args, **kwargs)
            self.tree = self.service(PoseTreeManager, "pose_tree").tree  # usable at once
            self.tree.create_frame("world")

    app = Application([])
    manager = PoseTreeManager(app, name="pose_tree")
    app.register_service(manager)
    reader = Reader(app, name="reader")
    assert app.service(PoseTreeManager, "pose_tree") is manager
    assert app.service(PoseTreeManager, "other") is None
    assert reader.tree is manager.tree and manager.tree.find_frame("world") == 1
