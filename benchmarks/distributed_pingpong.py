"""Small-message ping-pong, holoflow (driver + worker) and raw ZeroMQ interleaved run by run.

Each of ``--repeats`` rounds measures raw ZeroMQ's one-way p50 (half the median round trip of
``distributed.RAW_TRIPS["small"]`` trips) and then one holoflow ping-pong run of as many round
trips, so both see the same machine state. Prints each run's p50 and the ratio of the medians
(the issue's target: within 2x raw).

Usage::

    python benchmarks/distributed_pingpong.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from distributed import RAW_TRIPS, holoflow_impl, run_app, summarize
from distributed_raw import raw_round_trips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    trips = RAW_TRIPS["small"]
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        impl = holoflow_impl(scratch)
        raws: list[float] = []
        runs = []
        for _ in range(options.repeats):
            raws.append(statistics.median(raw_round_trips("small", trips)) / 2 * 1e6)
            args = ["--mode", "pingpong", "--payload", "small", "--count", str(trips)]
            runs.append(run_app(impl, args, True, 120, scratch))
    summary = summarize(runs)
    raw = statistics.median(raws)
    print("raw one-way p50 per run (us):", [round(value, 1) for value in raws])
    print(
        "holoflow one-way p50 per run (us):",
        [round(run.get("latency_p50_us", float("nan")), 1) for run in runs],
    )
    p50 = summary["latency_p50_us"]
    if p50 is None:
        print(f"raw p50 {raw:.1f} us; no holoflow run finished: {runs}")
        return
    print(
        f"raw p50 {raw:.1f} us; holoflow p50 {p50:.1f} us, p99 {summary['latency_p99_us']:.1f} us; "
        f"ratio {p50 / raw:.2f}; runs failed {summary['runs_failed']}, "
        f"with losses {summary['runs_with_losses']}"
    )


if __name__ == "__main__":
    main()
