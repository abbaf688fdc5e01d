"""Loggers built from a YAML configuration, as Holoscan's ``data_logger_parameters.yaml`` does."""

from __future__ import annotations

import logging

from holoflow.conditions import CountCondition
from holoflow.core import AsyncQueuePolicy
from holoflow.data_loggers import AsyncConsoleLogger, BasicConsoleLogger, SimpleTextSerializer

from ._graphs import CountTx, Sink

CONFIG = """
basic_console_logger:
  log_inputs: true
  log_outputs: true
  log_metadata: true
  log_tensor_data_content: true
  allowlist_patterns: []
  denylist_patterns : [".*op3.*", ".*op5.*"]

simple_text_serializer:
  max_elements: 10
  max_metadata_items: 10
  log_python_object_contents: true

async_console_logger:
  log_inputs: true
  log_outputs: true
  denylist_patterns : [".*op3.*", ".*op5.*"]
  max_queue_size: 5000
  worker_sleep_time: 50000
  queue_policy: reject
  large_data_max_queue_size: 1000
  large_data_worker_sleep_time: 200000
  large_data_queue_policy: Reject
  enable_large_data_queue: true
"""


def five_ops(app):
    ops = [CountTx(app, CountCondition(app, 1), name="op1")]
    for i in range(2, 6):
        sink = Sink(app, name=f"op{i}")
        app.add_flow(ops[0], sink)
        ops.append(sink)


def logged_ids(caplog):
    records = [r for r in caplog.records if r.name == "holoflow.data_loggers"]
    return sorted(r.getMessage().split("[ID:")[1].split("]")[0] for r in records)


def test_loggers_from_config(app, tmp_path, caplog):
    path = tmp_path / "loggers.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    app.config(str(path))
    five_ops(app)
    serializer = SimpleTextSerializer(app, name="text-serializer", **app.kwargs("simple_text_serializer"))
    basic = BasicConsoleLogger(app, name="basic", serializer=serializer, **app.kwargs("basic_console_logger"))
    queued = AsyncConsoleLogger(app, name="queued", **app.kwargs("async_console_logger"))
    app.add_data_logger(basic)
    app.add_data_logger(queued)
    with caplog.at_level(logging.INFO, logger="holoflow"):
        app.run()
    expected = ["op1.out", "op2.in", "op4.in"]
    assert logged_ids(caplog) == sorted(expected * 2)
    assert queued.statistics().data_enqueued == 3
    assert queued.large_data_queue_policy == "Reject"  # parsed as AsyncQueuePolicy.REJECT at run time
    assert AsyncQueuePolicy["REJECT"] is AsyncQueuePolicy.REJECT
