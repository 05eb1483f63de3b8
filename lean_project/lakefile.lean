import Lake
open Lake DSL

/-!
The Lean side of leancot: the REPL (`LeanCot/Repl.lean`) and the extractor, run by the Python
package under the embedded WASM Lean or a native `lean` of the toolchain in `lean-toolchain`.

To use Mathlib (native backend only; the WASM build ships the core library alone):
1. uncomment the `require` below (keep the tag equal to the toolchain in `lean-toolchain`);
2. run `lake update` and then `lake exe cache get` in this directory (downloads prebuilt .oleans);
3. run `leancot check --backend native FILE.lean` or `leancot doctor` to see it picked up.
-/

package leancot where
  leanOptions := #[⟨`autoImplicit, false⟩]

@[default_target]
lean_lib LeanCot

-- require mathlib from git
--   "https://github.com/leanprover-community/mathlib4" @ "v4.28.0"
