/-
The REPL as a native executable: `lake build` then `lake exe leancot-repl` (in `lean_project/`).
It speaks the community REPL's protocol, or leancot's with `LEANCOT_REPL_PROTOCOL=leancot` set;
the same replies as the runners the Python backends start (`LeanCot/Repl.lean` with
`#eval LeanCot.Repl.main`, or `mainLeancot`, appended); the WebAssembly build cannot run an
executable's `main`.
-/
import LeanCot.Repl

/-- Find the toolchain's library (and `LEAN_PATH`, which `lake exe`/`lake env` set to the
workspace's build directories, Mathlib's included), allow imported `initialize` code to run (as
`lean` does), then serve requests. -/
unsafe def main : IO Unit := do
  Lean.initSearchPath (← Lean.findSysroot)
  Lean.enableInitializersExecution
  LeanCot.Repl.mainIO
