/-
The runner of the REPL's image: how the WebAssembly build starts the REPL without elaborating
`LeanCot/Repl.lean` (leancot/lean/image.py builds the image and writes this runner).

The image is `LeanCot/Repl.olean`, written by the REPL's own `buildModule` request with
`"image": true`. The Python backend starts `lean` on a copy of this file with two commands
appended: `#eval LeanCot.ReplImage.install`, then `#eval LeanCot.ReplImage.mainLeancot` (or
`main`, the community protocol).

Why `install`. This build's interpreter finds an imported function's compiled code through the
module that declares it (`getModuleIdxFor?`), which knows only constants. The compiler's own
helpers (`serve._redArg`, `…._lam_0`, specialisations, closed terms) are not constants, so a call
to one from imported code fails with "Unknown constant". `install` copies the image's compiled
declarations that no module declares into this file's own table, where the interpreter looks
next (`IR.addDecls`). The code below avoids the library functions whose compiled code goes
through such helpers of the core library's (`liftCoreM`, `evalConst`, `throwError`, an
extension's `addEntry`: the same limitation, in modules that ship only their exported part): it
runs `CoreM` by hand, spells out `Core.Context`'s `maxHeartbeats` (its default reads an option
through a specialisation) and reports a failure on stderr, then exits.

Why the entry points read the context and the state. A `CommandElabM` action that uses neither
is compiled to a wrapper around a `_redArg` helper, and compiling the `#eval` of an imported
wrapper inlines it into a call of that helper, which the compiler then cannot find. The ones below
compile to a call of `LeanCot.Repl.serve` itself.
-/
import LeanCot.Repl

namespace LeanCot.ReplImage
open Lean Elab Command

/-- The module whose compiled code `install` copies. -/
def imageModule : Name := `LeanCot.Repl

/-- The compiled declarations of an .olean's entries (the IR extension's; a `find?` by hand). -/
partial def irEntries (es : Array (Name × Array EnvExtensionEntry)) (i : Nat) :
    Option (Array EnvExtensionEntry) :=
  if h : i < es.size then
    let e := es[i]'h
    if e.1 == `Lean.IR.declMapExt then some e.2 else irEntries es (i + 1)
  else none

/-- The declarations of `ds` that no module of `env` declares (a `filter` by hand). -/
partial def undeclared (env : Environment) (ds : Array IR.Decl) (i : Nat) (acc : Array IR.Decl) :
    Array IR.Decl :=
  if h : i < ds.size then
    let d := ds[i]'h
    undeclared env ds (i + 1) (if (env.getModuleIdxFor? d.name).isNone then acc.push d else acc)
  else acc

/-- Print `msg` on stderr and end the process (the backend reports it as a failed start). -/
def fail (msg : String) : IO Unit := do
  let err ← IO.getStderr
  err.putStrLn ("leancot REPL image: " ++ msg)
  err.flush
  IO.Process.exit 3

/-- Copy the image's compiled helpers into this file's table of compiled code (see above). -/
unsafe def install : CommandElabM Unit := do
  let env ← getEnv
  match env.getModuleIdx? imageModule with
  | none => fail "LeanCot.Repl is not imported"
  | some idx =>
    match env.header.moduleData[idx.toNat]? with
    | none => fail "LeanCot.Repl has no module data"
    | some data =>
      match irEntries data.entries 0 with
      | none => fail "LeanCot.Repl has no compiled code"
      | some es =>
        let decls := undeclared env (unsafeCast es : Array IR.Decl) 0 #[]
        let ctx : Core.Context :=
          { fileName := "<leancot image>", fileMap := FileMap.ofString "", maxHeartbeats := 0 }
        match ← ((IR.addDecls decls).run ctx { env := env }).toBaseIO with
        | .ok (_, st) => setEnv st.env
        | .error _ => fail "installing its compiled code failed"

/-- Serve the community protocol (the runner's `#eval LeanCot.ReplImage.main`). -/
def main : CommandElabM Unit := do
  let ctx ← read
  let env ← getEnv
  -- never true: it makes the action read its context and state (see above)
  if ctx.fileName.isEmpty && env.contains `LeanCot.ReplImage.never then pure ()
  else LeanCot.Repl.serve false

/-- Serve leancot's protocol (`#eval LeanCot.ReplImage.mainLeancot`). -/
def mainLeancot : CommandElabM Unit := do
  let ctx ← read
  let env ← getEnv
  if ctx.fileName.isEmpty && env.contains `LeanCot.ReplImage.never then pure ()
  else LeanCot.Repl.serve true

end LeanCot.ReplImage
