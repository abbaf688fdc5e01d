"""Records for the report tests: from a real tracked run, and made by hand with hop times."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from holoflow.latency import END_TO_END, run_latency

CHAIN_APP = Path(__file__).resolve().parent / "_chain_app.py"


@pytest.fixture(scope="session")
def chain_run():
    """A real tracked run of the chain app: 12 frames, 2 of warm-up, two paths."""
    return run_latency(str(CHAIN_APP), frames=12, warmup=2, scheduler="greedy")


def synthetic_records(frames=40, warmup=5, period_ns=33_333_333, seed=1):
    """Records of a three-operator path with hop times, and end-to-end records, for frames
    ``1..frames`` (the first ``warmup`` not counted); returns (records, per-hop durations)."""
    rng = np.random.default_rng(seed)
    records, e2e = [], []
    origin = 1_700_000_000_000_000_000
    for i in range(1, frames + 1):
        start = origin + i * period_ns
        compute = rng.integers(1_000_000, 9_000_000, 3)
        queue = rng.integers(0, 4_000_000, 3)
        queue[0] = 0
        hops, t = [], start
        for op, q, c in zip(("src", "mid", "viz"), queue, compute):
            receive = t + int(q)
            hops.append({"operator": op, "receive_ns": receive, "publish_ns": receive + int(c)})
            t = receive + int(c)
        records.append(
            {
                "path": "src,mid,viz",
                "index": i,
                "counted": i > warmup,
                "start_ns": start,
                "end_ns": t,
                "latency_ms": (t - start) / 1e6,
                "hops": hops,
            }
        )
        e2e.append(
            {
                "path": END_TO_END,
                "index": i,
                "counted": i > warmup,
                "start_ns": start,
                "end_ns": t + 500_000,
                "latency_ms": (t + 500_000 - start) / 1e6,
                "hops": [],
            }
        )
    return records + e2e
