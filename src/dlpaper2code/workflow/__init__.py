"""Workflow tooling: keeps the Snakemake workflow, ``dvc.yaml`` and ``.dvcignore`` in step.

Owns: ``sync`` (dvc.yaml generated from the Snakemake rules; each rule's code
dependencies derived from the import graph of the module it runs), ``slurmcluster`` (a
throwaway one-node SLURM cluster for the tests) and ``slurmscale`` (the first shards of the
full-scale run through the SLURM profile, measured).

May import: :mod:`dlpaper2code.core` (and reads the other packages' source files
as data, never importing them).
"""
