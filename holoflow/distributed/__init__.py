"""Distributed applications: fragments across processes and hosts."""
