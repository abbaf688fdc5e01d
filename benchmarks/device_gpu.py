"""One GPU run that answers every open GPU question, written as one JSON file.

Run from the repository root on a GPU machine (holoflow's test dependencies installed)::

    python3 benchmarks/device_gpu.py --out results.json [--stages suite,gpu-tests,bench:300,ncu]

Stages, each run as a child process with a time limit (``--limit-s``), its exit code, wall
time, pytest summary line (for tests) and the tail of its output recorded:

- ``suite``: the README's test command (``python3 -m pytest -q --cov``): the whole suite as a
  user with a GPU runs it, with seconds per test folder, the 30 slowest tests and the first
  test after which objects stayed frozen (``_suite_probe.py``; recorded as it goes, so a
  run stopped at its limit still tells how far it got); every test's seconds go to
  ``OUT.tests.json`` beside the result; ``$HOLOFLOW_SUITE_PATHS`` runs a part of the suite,
  for a machine whose calls are shorter than the whole;
- ``gpu-tests``: the GPU test folders alone (``tests/gpu tests/inference tests/viz
  tests/operators tests/tensor tests/kernels``);
- ``bench``: the GPU benchmarks with their variants side by side: the format converter (both
  resize kernels against the NPP sequence and a copy), and the inference pipeline eager and with
  CUDA graphs, each under the greedy scheduler and with three worker threads (each operator's host
  time recorded), then with three threads and a shorter GIL switch interval, and a cProfile of
  the eager greedy run; each benchmark's own JSON is embedded in the result;
- ``ncu``: Nsight Compute's sections for each resize kernel on the 4K case.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GPU_FOLDERS = [
    "tests/gpu",
    "tests/inference",
    "tests/viz",
    "tests/operators",
    "tests/tensor",
    "tests/kernels",
]
_SUMMARY = re.compile(r"^=*\s*(\d+ (passed|failed|error).*?)\s*=*$", re.MULTILINE)


def _run(command: list[str], limit_s: float) -> dict[str, Any]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), str(ROOT / "benchmarks"), env.get("PYTHONPATH")])
    )
    start = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=limit_s, check=False
        )
        output, code = done.stdout + done.stderr, done.returncode
    except subprocess.TimeoutExpired as expired:
        partial = expired.stdout or b""
        output = partial.decode(errors="replace") if isinstance(partial, bytes) else partial
        code = None
    summaries = _SUMMARY.findall(output)
    return {
        "command": " ".join(command),
        "exit_code": code,
        "timed_out": code is None,
        "wall_s": round(time.monotonic() - start, 1),
        "summary": summaries[-1][0] if summaries else None,
        "tail": output[-60000:],
    }


def suite(limit_s: float) -> dict[str, Any]:
    """The README's test command, with ``_suite_probe.py``'s record summarized: seconds per test
    folder, the 30 slowest tests, and what left objects frozen (if anything did). With
    ``$HOLOFLOW_SUITE_PATHS`` (space-separated test paths) it runs those only, so that calls
    that each fit a time limit can share the suite."""
    with tempfile.TemporaryDirectory() as scratch:
        probe = Path(scratch) / "suite_probe.jsonl"
        os.environ["HOLOFLOW_SUITE_PROBE"] = str(probe)
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "--cov",
            "-p",
            "no:cacheprovider",
            "-p",
            "_suite_probe",
            *os.environ.get("HOLOFLOW_SUITE_PATHS", "").split(),
        ]
        run = _run(command, limit_s)
        del os.environ["HOLOFLOW_SUITE_PROBE"]
        records = (
            [json.loads(line) for line in probe.read_text(encoding="utf-8").splitlines()]
            if probe.exists()
            else []
        )
    tests = [r for r in records if "test" in r]
    folders: dict[str, float] = {}
    for record in tests:
        folder = "/".join(record["test"].split("::")[0].split("/")[:2])
        folders[folder] = round(folders.get(folder, 0.0) + record["s"], 2)
    run["tests_done"] = len(tests)
    run["seconds_per_folder"] = dict(sorted(folders.items(), key=lambda item: -item[1]))
    run["slowest"] = sorted(tests, key=lambda r: -r["s"])[:30]
    run["per_test"] = {record["test"]: record["s"] for record in tests}
    run["frozen"] = next((r for r in records if "frozen" in r), None)
    run["freeze_calls"] = [r["freeze_from"] for r in records if "freeze_from" in r]
    return run


def gpu_tests(limit_s: float) -> dict[str, Any]:
    return _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *GPU_FOLDERS], limit_s)


def bench(limit_s: float) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        runs = {"format_converter": ["benchmarks/format_converter.py"]}
        for graphs in (False, True):
            for workers in (0, 3):
                name = f"inference_{'graphs' if graphs else 'eager'}_workers{workers}"
                runs[name] = [
                    "benchmarks/inference.py",
                    "--backend",
                    "torch",
                    "--workers",
                    str(workers),
                    "--op-times",
                    *(["--cuda-graphs"] if graphs else []),
                ]
        # Python's GIL hand-off: a thread back from GIL-free work (a TorchScript forward, a CUDA
        # call) waits up to the switch interval while another runs Python.
        for kind, interval_us in (("eager", 200),):
            name = f"inference_{kind}_workers3_switch{interval_us}us"
            runs[name] = [*runs[f"inference_{kind}_workers3"], "--switch-interval", str(interval_us * 1e-6)]
        profile = str(Path(scratch) / "eager.prof")
        runs["inference_eager_workers0_profile"] = [
            "benchmarks/inference.py",
            "--backend",
            "torch",
            "--repeats",
            "1",
            "--profile",
            profile,
        ]
        deadline = time.monotonic() + limit_s
        for index, (name, args) in enumerate(runs.items()):
            output = Path(scratch) / f"{name}.json"
            share = (deadline - time.monotonic()) / (len(runs) - index)  # what earlier runs left
            run = _run([sys.executable, *args, "--output", str(output)], max(share, 1.0))
            if output.exists():
                run["result"] = json.loads(output.read_text(encoding="utf-8"))
            if "--profile" in args and Path(profile + ".txt").exists():
                run["profile"] = Path(profile + ".txt").read_text(encoding="utf-8")
            results[name] = run
    return results


def ncu(limit_s: float) -> dict[str, Any]:
    """Nsight Compute's reading of each resize kernel on the 4K case (what bounds it)."""
    found = shutil.which("ncu") or next(iter(sorted(glob.glob("/opt/nvidia/nsight-compute/*/ncu"))), None)
    if found is None:
        return {"skipped": "ncu not found"}
    sections = ["SpeedOfLight", "MemoryWorkloadAnalysis", "Occupancy", "LaunchStats", "WarpStateStats"]
    command = [
        found,
        "--clock-control",
        "none",
        "--kernel-name",
        "regex:resize_",
        "--csv",
        "--page",
        "details",
    ]
    for section in sections:
        command += ["--section", section]
    run = _run([*command, sys.executable, "benchmarks/format_kernel_profile.py"], limit_s)
    run["tail"] = run["tail"][-60000:]
    return run


STAGES = {"suite": suite, "gpu-tests": gpu_tests, "bench": bench, "ncu": ncu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="the JSON file to write")
    parser.add_argument(
        "--stages",
        default="suite",
        help=f"comma-separated, of {', '.join(STAGES)}; NAME:SECONDS sets that stage's time limit",
    )
    parser.add_argument("--limit-s", type=float, default=540.0, help="time limit of each stage")
    args = parser.parse_args()
    try:
        smi = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=False).stdout.strip()
    except FileNotFoundError:
        smi = "no nvidia-smi"
    result: dict[str, Any] = {"gpu": smi, "cpus": os.cpu_count()}
    for item in args.stages.split(","):
        stage, _, limit = item.partition(":")
        result[stage] = STAGES[stage](float(limit) if limit else args.limit_s)
        per_test = result[stage].pop("per_test", None)
        if per_test is not None:  # large: a file of its own, so the summary stays small
            Path(args.out).with_suffix(".tests.json").write_text(json.dumps(per_test), encoding="utf-8")
        Path(args.out).write_text(json.dumps(result, indent=1), encoding="utf-8")
        brief = {key: value for key, value in result[stage].items() if key != "tail"}
        print(f"{stage}: {json.dumps(brief)[:600]}", flush=True)


if __name__ == "__main__":
    main()
