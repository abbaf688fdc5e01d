"""The tutorials: every program in examples/tutorials runs as a script and prints what its page
says it prints, and every page includes its code from those files, so the two cannot drift apart.

Each page shows a run's output in a ``text`` block after the ``python3 examples/tutorials/NAME.py``
command. Programs whose output is deterministic must print exactly that block; for the others
(addresses, frame numbers, times) the same checks are applied to the page's block and to a real run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ROOT / "examples" / "tutorials"
PAGES = ROOT / "docs" / "tutorials"
SNIPPET = re.compile(r'^--8<-- "([^"]+)"$')
ORDER = [
    "first_app",
    "conditions_and_schedulers",
    "tensors_on_the_gpu",
    "writing_an_operator",
    "replay_infer_render",
    "sensor_bridge_capture",
    "porting_a_holoscan_app",
]


def run_tutorial(name: str, *args: str, timeout: float = 120) -> list[str]:
    """Run ``examples/tutorials/NAME.py`` from the repository root; its stdout lines."""
    result = subprocess.run(
        [sys.executable, str(TUTORIALS / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def page_output(page: str, program: str | None = None) -> list[str]:
    """The lines of the ``text`` block that follows the command running ``program`` on ``page``."""
    lines = (PAGES / f"{page}.md").read_text().splitlines()
    command = f"python3 examples/tutorials/{program or page}.py"
    start = next(i for i, line in enumerate(lines) if line.startswith(command))
    opening = lines.index("```text", start)
    closing = lines.index("```", opening + 1)
    return lines[opening + 1 : closing]


def fenced_blocks(page: str, language: str) -> list[str]:
    """The contents of every fenced block of ``language`` on ``page``."""
    text = (PAGES / f"{page}.md").read_text()
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def test_first_app():
    lines = run_tutorial("first_app")
    expected = []
    for value in range(1, 6):
        expected += [f"counter sent {value}", f"printer received {2 * value}"]
    assert lines == [*expected, "done"]
    assert page_output("first_app") == lines


def _check_schedulers(lines: list[str]) -> None:
    labels = ["GreedyScheduler", "MultiThreadScheduler", "EventBasedScheduler"]
    assert len(lines) == 12 and [lines[i] for i in (0, 4, 8)] == [f"{label}:" for label in labels], lines
    for index, label in enumerate(labels):
        where = "the main thread" if label == "GreedyScheduler" else "a worker"
        block = lines[4 * index + 1 : 4 * index + 4]
        assert block[:2] == [f"  means 2.0 and 5.0 (on {where})", f"  means 8.0 and 11.0 (on {where})"]
        seconds = re.fullmatch(r"  finished in (\d+\.\d\d) s", block[2])
        # Readings 1 and 12 are eleven 10 ms periods apart, whatever the machine's load.
        assert seconds and float(seconds[1]) >= 0.11, block[2]


def test_conditions_and_schedulers():
    lines = run_tutorial("conditions_and_schedulers")
    _check_schedulers(lines)
    _check_schedulers(page_output("conditions_and_schedulers"))


def test_conditions_and_schedulers_events():
    lines = run_tutorial("conditions_and_schedulers_events")
    assert lines == [
        *(f"received sample {i}" for i in range(1, 6)),
        "the watchdog saw the device finish and switched itself off",
    ]
    assert page_output("conditions_and_schedulers", "conditions_and_schedulers_events") == lines


def _check_tensors(lines: list[str]) -> None:
    on_host = lines[0] == "arrays live on: the host (numpy); CuPy or a CUDA device is missing"
    assert on_host or re.fullmatch(r"arrays live on: the GPU \(CuPy, device \d+\)", lines[0]), lines[0]
    lib, device = ("numpy", "DLCPU") if on_host else ("cupy", "DLCUDA")
    assert lines[1] == f"as_tensor: shape (3, 4), dtype float32, device {device}"
    assert lines[2:4] == [
        f"{lib}.asarray view shares memory: True",
        f"{lib}.from_dlpack view shares memory: True",
    ]
    assert lines[4] in (
        "torch.from_dlpack view shares memory: True",
        "torch.from_dlpack: torch is not installed, skipped",
        "torch.from_dlpack: this torch has no CUDA, skipped",
    )
    means = ["11.50", "23.00", "31.58"]  # min(ramp * n, 50) over the 24 values of a 4x6 ramp
    assert lines[5:] == [
        f"frame {n}: TensorMap ['clipped', 'frame', 'frame_id'], clipped is a Tensor (4, 6) float32 "
        f"on {device}, mean {mean}; frame arrived without a copy: True"
        for n, mean in zip(range(1, 4), means)
    ]


def test_tensors_on_the_gpu():
    lines = run_tutorial("tensors_on_the_gpu")
    _check_tensors(lines)
    page = page_output("tensors_on_the_gpu")
    _check_tensors(page)
    if lines[0] == page[0]:  # the same kind of machine: the same lines, torch's aside
        assert lines[:4] + lines[5:] == page[:4] + page[5:]


def test_writing_an_operator():
    lines = run_tutorial("writing_an_operator")
    assert lines == [
        "range_check: start, range 18.0 to 26.0 C",
        "ok: 21.5 C (sensor t1, sample 1)",
        "ALARM: 27.0 C (sensor t1, sample 2)",
        "ok: 19.0 C (sensor t1, sample 3)",
        "ALARM: 12.5 C (sensor t1, sample 4)",
        "range_check: stop, 2 ok, 2 alarms",
        "GraphError: add_flow('range_check', 'ok_log'): cannot choose the output port of operator "
        "'range_check' (it declares ['alarm', 'ok']); name it in the port pairs, such as {('out', 'in')}",
        "ConfigError: operator 'range_check': no parameter 'hihg' (declared parameters: ['high', "
        "'low', 'unit']); strict mode is on (Application(strict=True) or HOLOFLOW_STRICT)",
    ]
    assert page_output("writing_an_operator") == lines


def _replay_frames(lines: list[str]) -> list[tuple[float, float]]:
    frames = []
    for index, line in enumerate(lines):
        match = re.fullmatch(
            rf"frame {index}: bone (\d+\.\d)% of the image, Dice against the truth (\S+)", line
        )
        assert match, line
        frames.append((float(match[1]), float(match[2])))
    return frames


def test_replay_infer_render(sample_data, tmp_path):
    pytest.importorskip("onnxruntime")
    image = pytest.importorskip("PIL.Image")
    png = tmp_path / "overlay.png"
    lines = run_tutorial("replay_infer_render", "--data", str(sample_data), "--output", str(png))
    assert lines[-1] == f"wrote {png}: 512x512 RGBA, the last of 5 rendered frames"
    frames = _replay_frames(lines[:-1])
    assert len(frames) == 5
    assert all(0.5 <= bone <= 3.0 and dice >= 0.9 for bone, dice in frames), frames
    page = page_output("replay_infer_render")
    assert page[-1] == "wrote overlay.png: 512x512 RGBA, the last of 5 rendered frames"
    # The page's numbers are this run's, up to the last digit (ONNX Runtime on another CPU may
    # label a few pixels differently).
    for (bone, dice), (page_bone, page_dice) in zip(frames, _replay_frames(page[:-1]), strict=True):
        assert abs(bone - page_bone) <= 0.2 and abs(dice - page_dice) <= 0.02
    with image.open(png) as picture:
        assert picture.size == (512, 512) and picture.mode == "RGBA"
        rgb = np.asarray(picture)[..., :3].astype(int)
    greenish = (rgb[..., 1] > rgb[..., 0] + 40) & (rgb[..., 1] > rgb[..., 2] + 40)
    assert greenish.sum() > 500  # the bone labels drawn in the colour table's green


def _check_capture(lines: list[str]) -> None:
    assert len(lines) == 5, lines
    assert re.fullmatch(r"found 127\.\d+\.\d+\.\d+, serial 03010401050903, camera 0x0274", lines[0])
    bars = "white yellow cyan green magenta red blue black"
    numbers = []
    for line in lines[1:4]:
        match = re.fullmatch(rf"frame (\d+): 1920x1080 uint16 complete; bars {bars}", line)
        assert match, line
        numbers.append(int(match[1]))
    assert numbers == sorted(set(numbers))  # newer frames only, each once
    summary = re.fullmatch(
        r"received (\d+) frames, 0 packets lost, (\d+) frames replaced by newer ones", lines[4]
    )
    assert summary and int(summary[1]) >= 3, lines[4]


def test_sensor_bridge_capture():
    _check_capture(run_tutorial("sensor_bridge_capture"))
    _check_capture(page_output("sensor_bridge_capture"))


PORTED_OUTPUT = [*(f"join: {2 * n} and {10 * n}" for n in range(1, 6)), "done"]


def _holoscan_listing() -> str:
    listings = [
        block for block in fenced_blocks("porting_a_holoscan_app", "python") if "from holoscan." in block
    ]
    assert len(listings) == 1
    return listings[0]


def test_porting_a_holoscan_app():
    lines = run_tutorial("porting_a_holoscan_app")
    assert lines == PORTED_OUTPUT
    assert page_output("porting_a_holoscan_app") == lines
    # The Holoscan program on the page is the tested file with its imports changed back, and
    # the diff on the page is exactly that change.
    ported = (TUTORIALS / "porting_a_holoscan_app.py").read_text()
    listing = _holoscan_listing()
    assert listing.replace("from holoscan.", "from holoflow.") == ported
    changed = [line for line in listing.splitlines() if "holoscan" in line]
    (diff,) = fenced_blocks("porting_a_holoscan_app", "diff")
    assert diff.splitlines() == [f"-{line}" for line in changed] + [
        "+" + line.replace("holoscan", "holoflow") for line in changed
    ]


@pytest.mark.skipif(not os.environ.get("HOLOSCAN_PYTHON"), reason="set HOLOSCAN_PYTHON to run Holoscan")
def test_the_holoscan_listing_prints_the_same_on_holoscan(tmp_path):
    """The page says Holoscan prints the same lines: with HOLOSCAN_PYTHON, check it."""
    script = tmp_path / "holoscan_app.py"
    script.write_text(_holoscan_listing())
    result = subprocess.run(
        [os.environ["HOLOSCAN_PYTHON"], str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == PORTED_OUTPUT


def test_pages_include_existing_files_and_every_tutorial_program():
    included: set[Path] = set()
    for page in sorted(PAGES.glob("*.md")):
        lines = page.read_text().splitlines()
        for number, line in enumerate(lines):
            match = SNIPPET.match(line)
            if line.lstrip().startswith("--8<--"):
                assert match, f"{page.name}:{number + 1}: not a snippet line: {line!r}"
            if not match:
                continue
            path = ROOT / match[1]
            assert path.is_file(), f"{page.name}:{number + 1}: {match[1]} does not exist"
            fence = "```" + {".py": "python", ".yaml": "yaml"}[path.suffix]
            assert lines[number - 1] == fence and lines[number + 1] == "```", f"{page.name}:{number + 1}"
            included.add(path.resolve())
    programs = {path.resolve() for path in TUTORIALS.glob("*.py")}
    assert programs, "no tutorial programs found"
    assert programs <= included, f"not included by any page: {sorted(p.name for p in programs - included)}"


def test_index_lists_every_tutorial_in_order():
    links = re.findall(r"^\d+\. \[[^\]]+\]\(([a-z_]+)\.md\)", (PAGES / "index.md").read_text(), re.MULTILINE)
    assert links == ORDER
    assert {page.stem for page in PAGES.glob("*.md")} == {"index", *ORDER}
    for name in ORDER:  # each page runs a program of its own name
        assert (TUTORIALS / f"{name}.py").is_file()
        assert f"python3 examples/tutorials/{name}.py" in (PAGES / f"{name}.md").read_text()
