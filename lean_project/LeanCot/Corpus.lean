/-
LeanCot's bundled theorem corpus (core Lean 4 only, no Mathlib): the source of training
proofs and the prover benchmark. Each file is self-contained and checks on its own.
-/
import LeanCot.Corpus.Nat
import LeanCot.Corpus.List
import LeanCot.Corpus.Option
import LeanCot.Corpus.Bool
import LeanCot.Corpus.Logic
import LeanCot.Corpus.Sets
import LeanCot.Corpus.Structures
