"""Training layer: rows from CoT data and search logs, policy SFT, PRM, DPO, evaluation.

Importing this package is cheap: torch, transformers and TRL load inside the functions that need
them (install them with `pip install 'leancot[train]'`). Entry points: `policy.main`,
`prm.main`, `dpo.main`, `evaluate.main`. The models they train and evaluate are driven through
the scoring API in leancot/models/ (imported from here, never the reverse).
"""
