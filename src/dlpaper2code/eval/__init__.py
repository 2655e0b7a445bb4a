"""Evaluation: benchmarks and scoring of every stage, in one place.

Owns: ``reader_score`` (one diagram read against its ground truth, and the one
reader summary), ``reader_flow`` (the workflow's per-shard reader scoring),
``reader_bench`` (the held-back reader benchmark), ``paper_metrics`` (figures,
tables and graphs of the synthetic paper corpus), ``codegen_speed``,
``render_speed``, ``simulate_speed`` and ``figclass_bench`` (speed and
accuracy benchmarks).

May import: every layer below it (core, emit, render, simulate, read, paper,
figclass); nothing imports it but the command line and the workflow scripts.
"""
