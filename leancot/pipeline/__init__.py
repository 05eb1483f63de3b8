"""The pipeline: stages of `leancot run`, and `leancot prove` / `leancot iterate` on top.

Modules, lowest first (each imports only those above it in this list):
  stages     resumable stage folders with manifests, fingerprints, the shared lazy Lean server
  config     RunConfig, ProveConfig, IterateConfig (with the prover's SearchConfig/BudgetConfig)
  negatives  Lean-rejected tactics at training states, as search logs (PRM labels)
  steps      the work of each `leancot run` stage
  run        `leancot run`: which stages run, in which folders, in what order
  prove      `leancot prove`: one method over a theorem list
  iterate    `leancot iterate`: self-play rounds on a finished run
"""
