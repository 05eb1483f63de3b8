"""leancot: Lean 4 proofs to chain-of-thought data, a tactic policy and a PRM, Lean as verifier."""

__version__ = "0.1.0"
