"""Format constants that more than one stage reads or writes; the layouts are in docs/FORMATS.md.

Only names shared across modules live here: a constant one module owns stays in that module.
Like `leancot.files`, this module imports no other leancot module, so every layer may use it.
"""

from __future__ import annotations

NO_GOALS = "no goals"
"""LeanDojo's pretty-printed state once no goal remains (`state_after` of a closing tactic)."""

# --- LeanDojo Benchmark 4 folder (docs/FORMATS.md#leandojo-benchmark-4-folder) -------------------

BENCHMARK_METADATA = "metadata.json"
"""The benchmark's metadata, written last: its presence marks a finished folder."""
BENCHMARK_CORPUS = "corpus.jsonl"
"""One line per source file with its imports and premises."""

# --- chain-of-thought corpora (docs/FORMATS.md#cot-corpora) --------------------------------------

STEPS_FILE = "step_records.jsonl"
STAR_FILE = "lean_star.jsonl"
PROOFS_FILE = "proofs.jsonl"

RETRIEVED_PREMISES = "retrieved_premises"
"""Optional field of a step record and of a search-log node: the premise texts a retriever gives
at its state, shown in the policy's prompt (`-- premise:` lines; docs/FORMATS.md#sft-rows)."""

# --- search logs and run folders (docs/FORMATS.md#search-logs, #run-folders-and-manifests) -------

RESULTS_NAME = "results.jsonl"
"""The search log of one prove stage, and `leancot prove`'s default `--out`."""
MANIFEST_NAME = "manifest.json"
"""Written last in a stage folder (`leancot run`) or a `leancot translate` output: complete."""
REPORT_JSON = "report.json"
"""The prover report's summary, written last in a report folder."""
