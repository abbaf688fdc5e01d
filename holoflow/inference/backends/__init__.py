"""Inference backends, one module per framework, imported on first use."""
