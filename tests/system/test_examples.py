"""Every example runs as a script and prints what it promises."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_hello_world():
    assert run_example("hello_world.py") == "Hello World!\n"


def test_ping_simple():
    lines = run_example("ping_simple.py").splitlines()
    assert lines == [f"Rx message value: {i}" for i in range(1, 11)]


def test_ping_custom_op():
    lines = run_example("ping_custom_op.py").splitlines()
    assert [line for line in lines if line.startswith("Rx")] == [
        f"Rx message value: {3 * i}" for i in range(1, 11)
    ]
    assert [line for line in lines if line.startswith("Middle")] == [
        f"Middle message value: {i}" for i in range(1, 11)
    ]


def test_ping_multi_port():
    lines = run_example("ping_multi_port.py").splitlines()
    assert lines == [f"Rx message values: {3 * i}, {-3 * i}" for i in range(1, 11)]


@pytest.mark.parametrize("module", ["ping_multi_port"])
def test_examples_import_without_running(module):
    sys.path.insert(0, str(EXAMPLES))
    try:
        mod = __import__(module)
        app = mod.MultiPortApp([])
        app.run()
        assert app.rx.received == [(3 * i, -3 * i) for i in range(1, 11)]
    finally:
        sys.path.remove(str(EXAMPLES))


HOLOSCAN_RUNS = Path(__file__).resolve().parents[1] / "data" / "holoscan-4.6-examples"


def test_subgraph_ping():
    """The twin prints what Holoscan 4.6 printed for its subgraph_ping.py (port map included)."""
    recorded = HOLOSCAN_RUNS / "subgraph/ping_multi_receiver/python/subgraph_ping.py.run1.txt"
    expected = [line for line in recorded.read_text().splitlines() if not line.startswith("[")]
    assert expected[:2] == ["Application composed with Subgraph instances:", "====== PORT MAPPING ======="]
    assert run_example("subgraph/subgraph_ping.py").splitlines() == expected


def test_sequential_with_subgraph():
    # Holoscan 4.6 prints these lines for its sequential_with_subgraph.py.
    assert run_example("subgraph/sequential_with_subgraph.py").splitlines() == [
        "I am here - node1",
        "I am here - sequential_sg_node2",
        "I am here - sequential_sg_node3",
        "I am here - node4",
    ]


def test_metadata_passing():
    lines = run_example("metadata_passing.py").splitlines()
    keys = "['exposure_ms', 'frame_id', 'gain', 'label']"
    assert lines == [
        f"frame {i}: value {1.5 * i}, gain 1.5, exposure {8.0 + i / 2} ms, "
        f"label {'even' if i % 2 == 0 else 'odd'}, keys {keys}"
        for i in range(1, 5)
    ]


def test_parallel_branches():
    lines = run_example("parallel_branches.py").splitlines()
    assert lines[0].startswith("processed 20 frames in ")
    assert lines[1].startswith("last means: ")


def test_ping_async():
    assert run_example("ping_async.py").splitlines() == [f"received sample {i}" for i in range(1, 6)]


def test_operator_status_tracking():
    lines = run_example("execution_control/operator_status_tracking.py").splitlines()

    def of(stage):
        return [line for line in lines if line.startswith(f"[{stage}]")]

    assert of("source") == [
        *(f"[source] Emitting data: {i}" for i in range(5)),
        *(f"[source] Additional iterations after completion: {i}" for i in range(5, 10)),
        "[source] Stopping operator",
    ]
    assert of("processor") == [
        *(f"[processor] Processing data: {i} -> {2 * i}" for i in range(5)),
        "[processor] Stopping operator",
    ]
    assert of("consumer") == [
        *(f"[consumer] Consuming data: {2 * i}" for i in range(5)),
        "[consumer] Stopping operator",
    ]
    # Every summary names the three stages with a status; the last three found them all IDLE.
    summaries = [i for i, line in enumerate(lines) if line == "[monitor] Operator status summary:"]
    names = {"STARTED", "TICK_PENDING", "TICKING", "IDLE"}
    for i in summaries:
        stages = [re.fullmatch(r"  - (\w+): (\w+)", line) for line in lines[i + 1 : i + 4]]
        assert [m.group(1) for m in stages] == ["source", "processor", "consumer"], lines[i : i + 4]
        assert {m.group(2) for m in stages} <= names
    end = lines.index("[monitor] All operators have completed.")
    idle = [
        "[monitor] Operator status summary:",
        *(f"  - {s}: IDLE" for s in ("source", "processor", "consumer")),
    ]
    assert lines[end - 15 : end] == [*idle, "!!IDLE!!"] * 3
    assert lines[end + 1 :] == [
        "[source] Stopping operator",
        "[processor] Stopping operator",
        "[consumer] Stopping operator",
        "-" * 67,
        "Application completed. All operators have finished processing.",
    ]


def test_async_operator_execution_control():
    lines = run_example("execution_control/async_operator_execution_control.py").splitlines()
    assert lines[lines.index("-" * 67) + 1 :] == [
        "[op3] Executing compute method",
        "[op2] Executing compute method",
        "[op1] Executing compute method",
        "[controller] Shutting down controller",
        "[controller] Stopping controller execution",
        "[controller] Stopping controller",
        "-" * 67,
        "Application completed. All operators have finished execution.",
    ]


@pytest.mark.parametrize(
    "args",
    [[], ["--sync_tx"], ["--sync_rx"], ["-s", "greedy"], ["-s", "multi_thread", "--sync_rx"]],
    ids=["async", "sync_tx", "sync_rx", "greedy", "multi_thread"],
)
def test_execution_control_ping_async(args):
    lines = run_example("execution_control/ping_async.py", "-c", "5", "-t", "5", *args).splitlines()
    assert lines == [f"Rx message value: {i}" for i in range(1, 6)]


def test_tensor_interop():
    lines = run_example("tensor_interop.py").splitlines()
    assert lines[:10] == [f"frame {i}: mean {float(i):.1f}" for i in range(10)]
    assert lines[10] == "frames copied on the way: 0"


def test_record_and_replay():
    lines = run_example("record_and_replay.py").splitlines()
    parsed = [
        re.fullmatch(r"frame (\d+): shape \(120, 160, 3\), first pixel (\d+), t = ([\d.]+) s", line)
        for line in lines
    ]
    assert all(parsed), lines
    assert [(int(m[1]), int(m[2])) for m in parsed] == [(10, 36), (20, 76), (30, 116)]
    assert float(parsed[-1][3]) >= 0.95  # 29 intervals at 30 fps


def test_format_conversion():
    lines = run_example("format_conversion.py").splitlines()
    assert len(lines) == 3
    assert all(line.startswith("(128, 128, 3) float32 min -1.000 max 1.000") for line in lines), lines


def test_inference_segmentation():
    pytest.importorskip("onnxruntime")
    lines = run_example("inference_segmentation.py").splitlines()
    assert lines == ["segmented area: 317 pixels"] * 3


def test_software_compositor(tmp_path):
    from PIL import Image

    png = tmp_path / "frame.png"
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "software_compositor.py"), str(png)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "rendered 854x480 RGBA"
    r, g, b, a = (int(v) for v in re.findall(r"\d+", lines[1]))
    assert g > r and g > b and a == 255  # the organ's green LUT entry over the grey frame
    with Image.open(png) as image:
        assert image.size == (854, 480) and image.mode == "RGBA"


def test_holoviz_headless():
    assert run_example("holoviz_headless.py") == "rendered 10 frames of 640x480 RGBA\n"


def test_holoviz_depth_map():
    output = run_example("holoviz_depth_map.py")
    match = re.fullmatch(r"rendered 5 frames of 480x360; the last is (\d+)% covered\n", output)
    assert match and 5 <= int(match.group(1)) <= 50, output


@pytest.mark.parametrize("icrc", [[], ["--check-icrc"]])
def test_sensor_bridge_player(icrc):
    command = [
        sys.executable,
        str(EXAMPLES / "sensor_bridge_player.py"),
        "--count",
        "3",
        "--headless",
        "--fps",
        "20",
        *icrc,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"found 127\.\d+\.\d+\.\d+ serial 03010401050903, camera 0x0274", lines[0])
    frame = r"frame (\d+): 480x270 complete, 2611376 bytes, mean RGB \[.*\]"
    assert all(re.fullmatch(frame, line) for line in lines[1:4]), lines
    summary = r"received \d+ frames \(\d+ complete\), 0 packets dropped, \d+ frames overwritten, "
    summary += r"0 packets failed the ICRC check"
    assert re.fullmatch(summary, lines[4])


@pytest.mark.parametrize(
    ("name", "size"), [("ultrasound_segmentation", (512, 512)), ("endoscopy_tool_tracking", (768, 432))]
)
def test_sample_app_examples(name, size, sample_data, tmp_path):
    """The sample-app launchers run the app with the YAML beside them."""
    from PIL import Image

    script = EXAMPLES / name / f"{name}.py"
    yaml_copy = script.with_suffix(".yaml").read_text()
    packaged = Path(__file__).resolve().parents[2] / "holoflow" / "apps" / name / f"{name}.yaml"
    assert yaml_copy == packaged.read_text(), "the example's YAML drifted from the app's"
    result = subprocess.run(
        [sys.executable, str(script), "--headless", "--count", "2", "--data", str(sample_data)]
        + ["--output", str(tmp_path / "frame.png")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{name} (onnxrt): 2 frames in ")
    with Image.open(tmp_path / "frame_00001.png") as image:
        assert image.size == size


def _device_agnostic_expected() -> list[str]:
    lines = []
    for count in (1, 2, 3):
        brighter = np.minimum(np.arange(16, dtype=np.float32) * count * 2, 40)
        lines.append(f"cpu frame: mean {brighter.mean():.2f}, max {brighter.max():.0f}")
    return lines


def test_device_agnostic_operator():
    assert run_example("device_agnostic_operator.py").splitlines() == _device_agnostic_expected()


def test_multi_message_per_receiver():
    # Four threads print: a line of one may land inside a line of another, so count phrases.
    out = run_example("conditions/multi_message_per_receiver.py")
    received = re.findall(r"received in1=(.*?) in2=(\[.*?\]) in3=('[^']*')", out)
    assert received == [("'from tx1'", "['from tx2', 'from tx2']", "'from tx3'")] * 4
    # After the receiver's fourth and last run each sender fills its queue once more, then blocks.
    sends = {name: out.count(f"{name} sends") for name in ("tx1", "tx2", "tx3")}
    assert sends == {"tx1": 5, "tx2": 10, "tx3": 5}


def test_multi_message_sum_of_all():
    lines = run_example("conditions/multi_message_sum_of_all.py").splitlines()
    batches = [dict(re.findall(r"(in\d)=(\d+)", line)) for line in lines]
    assert len(batches) == 5 and all(line.startswith("batch: ") for line in lines)
    for batch in batches:
        counts = [int(batch[port]) for port in ("in1", "in2", "in3")]
        assert all(0 <= n <= 20 for n in counts)
        assert 0 < sum(counts) < 20  # 20 never arrive within 300 ms: the timeout runs it


def test_single_message_timeout():
    lines = run_example("conditions/single_message_timeout.py").splitlines()
    assert [line for line in lines if line.startswith("sent")] == [f"sent message {i}" for i in range(1, 19)]
    batches = [eval(line.split(": ", 1)[1]) for line in lines if line.startswith("received")]
    assert [m for batch in batches for m in batch] == list(range(1, 19))  # each once, in order
    assert all(len(batch) <= 5 for batch in batches)
    assert len([b for b in batches if b]) >= 4  # the timeout, not the count of 5, forms the batches


def test_multi_port_or_combiner():
    lines = run_example("conditions/multi_port_or_combiner.py").splitlines()
    parsed = [re.fullmatch(r"run (\d+): (in[12]) got (\d+)", line) for line in lines]
    assert all(parsed), lines
    got = {port: [int(m[3]) for m in parsed if m[2] == port] for port in ("in1", "in2")}
    assert got == {"in1": list(range(1, 11)), "in2": list(range(1, 11))}
    runs = [int(m[1]) for m in parsed]
    assert sorted(set(runs)) == list(range(max(runs) + 1))  # every run received something
    assert 10 <= max(runs) + 1 <= 20


def test_ping_expiring_message():
    lines = run_example("conditions/ping_expiring_message.py").splitlines()
    assert [line for line in lines if line.startswith("sent")] == [f"sent {i}" for i in range(1, 9)]
    batches = []
    for index, line in enumerate(lines):
        match = re.fullmatch(r"received (\[[\d, ]*\]): (the batch is full|the oldest expired)", line)
        if line.startswith("received"):
            assert match, line
            batch = eval(match[1])
            sent_before = sum(1 for earlier in lines[:index] if earlier.startswith("sent"))
            assert max(batch) <= sent_before, lines  # nothing is received before it was sent
            # The example itself asserts that a short batch's oldest message waited 500 ms.
            assert (len(batch) == 5) == (match[2] == "the batch is full"), line
            batches.append(batch)
    assert [value for batch in batches for value in batch] == list(range(1, 9))  # each once, in order
    assert all(1 <= len(batch) <= 5 for batch in batches)
    # 8 is no multiple of 5: at least one batch can only have been released by expiry.
    assert any(len(batch) < 5 for batch in batches)


def test_message_available_native():
    # No timing is involved: the hooks are called in the order Holoscan 4.6 prints for its version.
    expected = ["condition: setup()", "condition: initialize()"]
    for value in range(1, 11):
        expected += [
            "condition: update_state()",
            "condition: check() -> READY (1 waiting)",
            f"Rx message value: {value}",
            "condition: on_execute()",
            "condition: update_state()",  # on_execute refreshes the state
        ]
    expected += ["condition: update_state()", "condition: check() -> WAIT (0 waiting)"]
    assert run_example("conditions/message_available_native.py").splitlines() == expected


def _timed_example(name: str, *args: str) -> tuple[str, float]:
    start = time.monotonic()
    out = run_example(name, *args)
    return out, time.monotonic() - start


def test_ping_periodic_native():
    out, elapsed = _timed_example("conditions/ping_periodic_native.py")
    lines = out.splitlines()
    assert lines[:2] == ["condition: setup()", "condition: initialize()"]
    received = [line for line in lines if line.startswith("Rx")]
    assert received == [f"Rx message value: {i}" for i in range(1, 11)]
    # One letter per event: an evaluation (update_state, then check) answering R(EADY) or
    # W(AIT_TIME), E for on_execute, x for the receiver's line.
    events = []
    rest = iter(lines[2:])
    for line in rest:
        if line == "condition: update_state()":
            events.append({"READY": "R", "WAIT_TIME": "W"}[next(rest).removeprefix("condition: check() -> ")])
        else:
            events.append({"condition: on_execute()": "E"}.get(line, "x"))
    # The first tick is immediate. Before each later one the transmitter is evaluated too early a
    # number of times that depends on timing (usually once, right after the previous tick). After
    # the tenth the CountCondition says NEVER at the next evaluation: the operator is done.
    assert re.fullmatch(r"REx(?:W*REx){9}[RW]", "".join(events)), lines
    assert elapsed >= 0.9  # ticks 1 and 10 are 9 periods of 100 ms apart on the grid


@pytest.mark.parametrize(
    ("args", "period"),
    [([], 0.1), (["--nanoseconds", "--period-ms", "30", "--policy", "NoCatchUpMissedTicks"], 0.03)],
    ids=["timedelta", "nanoseconds"],
)
def test_ping_periodic(args, period):
    out, elapsed = _timed_example("conditions/ping_periodic.py", *args)
    assert out.splitlines() == [f"Rx message value: {i}" for i in range(1, 11)]
    assert elapsed >= 9 * period  # at least a period between two of the 10 ticks


def test_observability_tracking_breakdown():
    out = run_example("observability/tracking_breakdown.py", "--frames", "12")
    assert "Path 1: camera,preprocess,inference,sink\nNumber of messages: 8\n" in out
    assert "camera->frame: 12" in out and out.endswith("frames received: 12\n")
    operators = ("inference ", "preprocess ", "sink ")
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith(operators)}
    assert rows["inference"][0] == "12" and float(rows["inference"][1]) >= 5.0  # sleeps 5 ms
    assert float(rows["preprocess"][1]) >= 2.0 and float(rows["sink"][1]) >= 1.0
    percentiles = re.search(r"camera,preprocess,inference,sink: p50 ([\d.]+) ms", out)
    assert percentiles and float(percentiles.group(1)) >= 8.0
