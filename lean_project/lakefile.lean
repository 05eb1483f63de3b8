import Lake
open Lake DSL

/-!
The Lean side of leancot, run by the Python package under the embedded WASM Lean or a native
`lean` of the toolchain in `lean-toolchain`:
- `LeanCot/Corpus.lean` and `LeanCot/Corpus/`: the bundled theorem corpus (library `LeanCot`);
- `LeanCot/Repl.lean`: the REPL (library `LeanCotRepl`), a module without `#eval`; the Python
  backends run a copy of it with `#eval LeanCot.Repl.main` appended (see
  `leancot/lean/backends.py`);
- `LeanCot/ReplMain.lean`: the same REPL as an executable, `lake exe leancot-repl`;
- `LeanCot/ReplImage.lean`: the loader of the REPL's image (WASM only; not a Lake target).

`lake build` checks the corpus and builds the executable (native toolchain only; the WASM build
cannot run Lake).

To use Mathlib (native backend only; the WASM build ships the core library alone):
1. uncomment the `require` below (keep the tag equal to the toolchain in `lean-toolchain`);
2. run `lake update` and then `lake exe cache get` in this directory (downloads prebuilt .oleans);
3. run `leancot check --backend native FILE.lean` or `leancot doctor` to see it picked up.
-/

package leancot where
  leanOptions := #[⟨`autoImplicit, false⟩]

/-- The bundled corpus: `LeanCot.Corpus` and every module under `LeanCot/Corpus/`. -/
@[default_target]
lean_lib LeanCot where
  roots := #[`LeanCot.Corpus]
  globs := #[.andSubmodules `LeanCot.Corpus]

/-- The REPL's code, imported by the executable. -/
lean_lib LeanCotRepl where
  roots := #[`LeanCot.Repl]

/-- The REPL as a program reading requests on stdin (the protocol of docs/FORMATS.md).
`supportInterpreter`: user commands may `#eval`. -/
@[default_target]
lean_exe «leancot-repl» where
  root := `LeanCot.ReplMain
  supportInterpreter := true

-- require mathlib from git
--   "https://github.com/leanprover-community/mathlib4" @ "v4.28.0"
