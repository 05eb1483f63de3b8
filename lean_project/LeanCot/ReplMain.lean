/-
The REPL as a native executable: `lake build` then `lake exe leancot-repl` (in `lean_project/`).
Same protocol and replies as the runner the Python backends start (`LeanCot/Repl.lean` with
`#eval LeanCot.Repl.main` appended); the WebAssembly build cannot run an executable's `main`.
-/
import LeanCot.Repl

/-- Find the toolchain's library (and `LEAN_PATH`, which `lake exe`/`lake env` set to the
workspace's build directories, Mathlib's included), allow imported `initialize` code to run (as
`lean` does), then serve requests. -/
unsafe def main : IO Unit := do
  Lean.initSearchPath (← Lean.findSysroot)
  Lean.enableInitializersExecution
  LeanCot.Repl.mainIO
