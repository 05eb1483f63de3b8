/-
leancot's Lean REPL. It speaks the JSON protocol of leanprover-community/repl:

  {"cmd": "...", "env": n?, "allTactics"?, "rootGoals"?, "infotree"?, "maxHeartbeats"?}
                                                  → {"env", "messages"?, "sorries"?, "tactics"?, "infotree"?}
  {"path": "file.lean", ...}                      → the same, for the file's text
  {"tactic": "...", "proofState": n, "maxHeartbeats": n?}
                                                  → {"proofState", "goals", "messages"?, "sorries"?, "traces"?, "proofStatus"}
  {"pickleTo": f, "env" | "proofState": n}, {"unpickleEnvFrom": f}, {"unpickleProofStateFrom": f, "env"?}
  {"forget": {"envs": [..]?, "proofStates": [..]?}} → {"forgotten": {"envs": k, "proofStates": m}}
and, for leancot itself, `verify`, `constants`, `premises` and `buildModule` requests (below).

Requests are JSON objects, each followed by a blank line (lines are joined, `#`/`--` comment
requests are skipped). By default, as the community REPL, every reply is a bare JSON object
followed by a blank line, the first command gets env 0 and options are Lean's. In leancot's
protocol (`mainLeancot`, or `LEANCOT_REPL_PROTOCOL=leancot` for the native executable; leancot's
backends choose it) every reply is one
line prefixed with `@@LEANCOT@@ ` and carrying the request's `nonce` (other stdout lines are output
of user `#eval`s and must be ignored), the base environment is announced by
`@@LEANCOT@@ {"ready": true, ...}`, fresh environments have `autoImplicit false` and `allTactics`
lists every tactic node. The wire format, with examples, is in docs/FORMATS.md ("Lean REPL wire
protocol").

How it runs. This module has no `#eval`, so `lake build` only compiles it. The Python backends
(`leancot/lean/backends.py`) start `lean` on one of two runners, because the WebAssembly build runs
neither an `IO` entry point nor `lean --run`: the REPL's image (`LeanCot/ReplImage.lean` with two
`#eval`s appended; the image is this module's .olean, built once by `leancot setup` through a
`buildModule` request with `"image": true`, see leancot/lean/image.py), or, when no image is built
for this text, a copy of this file with `#eval LeanCot.Repl.main` appended, elaborated at each
start. Natively, `lake exe leancot-repl` runs `LeanCot/ReplMain.lean`, which calls `mainIO`.

Why the code looks the way it does. The WASM build ships only the public part of the core
library's .olean files, and its interpreter cannot run a library function whose compiled code
goes through a private or compiler-generated helper (`List.reverse._redArg`,
`Array.append._redArg`, `Name.toStringWithToken._at_.Name.toString.spec_0`,
`_private.….Array.mapMUnsafe.map`, …): the interpreter needs that helper's code and the .olean
does not have it. So this file folds, maps and prints with its own small recursive functions, each
naming the library function it stands for, and builds contexts and monad runs by hand. Lean's
own elaborators (of user commands and tactics) are compiled code and unaffected.

Cheap to elaborate, because that happens at every WASM start without an image, and at each
build of the image (README, "Start-up, session 8"): loops are `partial def`s (no termination proofs), indexing is `xs[i]'h`
with the `if h :` proof at hand and `stx.getArg i` (no `get_elem_tactic`), structures get no
injectivity or `sizeOf` lemmas, and long `::` chains with `←` inside are avoided.

Contents
  Setup            the state (environments, proof states, headers) and the base options
  Own folds        Array/PersistentArray/List folds that the interpreter can run
  JSON helpers     messages and positions as JSON
  Names            names as JSON text: escaped with «» as Lean prints them (`nameSource`), and
                   unescaped keys for comparisons (`nameText`, `nameKey`)
  Goals            `runMetaIn` (a MetaM action in a saved context, with a heartbeat limit) and
                   goal printing
  Commands         `cmd` requests: parsing and elaborating commands one by one, `sorry`s
  Traced tactics   `"allTactics": true`, for the extractor (leancot/extract/)
  Verification     `verify` requests: the allow-list, the environment inspection, the kernel
                   replay of what the text added, the reference statement
  Premise locations `premises` requests, for the extractor: identifiers naming constants, library
                   modules' declarations (one self-contained section)
  Building modules `buildModule` requests, for the extractor: a user project's module written
                   as an .olean that later files import (one self-contained section)
  Freeing handles  `forget` requests (one self-contained section)
  Request loop     sorries and tactic replies (kernel-checked `proofStatus`), pickling,
                   `cmd`/`path`/`tactic`/`pickle…`/`verify`/`constants`/`premises`/`forget`
                   dispatch (`constants`: the constants the imported modules declare, for the
                   `core` benchmark), reading requests, `mainIO`, `main`
-/
import Lean.Elab.Frontend
import Lean.Util.CollectAxioms
import Lean.Util.FoldConsts
import Lean.Util.CollectLevelParams
import Lean.Compiler.ImplementedByAttr
-- Elaborate this file on one thread: the REPL is sequential, and under WASM every extra thread
-- keeps its own heap (measured: 0.4 GB less peak memory at start-up).
set_option Elab.async false
-- Cheaper to elaborate at each start, with the same code (nothing here reasons about these
-- types or functions): no injectivity and `sizeOf` lemmas for the structures, no linters.
set_option genInjectivity false
set_option genSizeOf false
set_option genSizeOfSpec false
set_option linter.all false
open Lean Elab Meta

namespace LeanCot.Repl

/-- A `Bool` as a proposition (`b = true`), found at once: every `if` on a `Bool` asks for this
coercion, and the search through Lean's coercion classes costs time at each start (the
coercion unfolds to the same `b = true`). Local to this file: user environments import their
own headers. -/
@[instance high] private abbrev boolAsProp (b : Bool) : CoeT Bool b Prop := ⟨b = true⟩

/-! ## Setup -/

-- Explicit, not auto-bound: the Lake package sets `autoImplicit false` for every module.
variable {α β γ : Type}

/-- Everything needed to run tactics on a saved goal list. -/
structure ProofSnap where
  env : Environment
  mctx : MetavarContext
  root : MVarId
  goals : List MVarId
  options : Options
  currNamespace : Name
  openDecls : List OpenDecl

structure State where
  /-- leancot's own client (`LEANCOT_REPL_PROTOCOL=leancot`): marker framing and a ready line,
  `autoImplicit false`. Otherwise the community REPL's protocol and Lean's defaults. -/
  leancot : Bool
  /-- The options of every fresh environment (`baseOptions`). -/
  opts : Options
  /-- The imported base environment: where a request without `"env"` starts. -/
  base : Command.State
  /-- Command states (environment and scopes: namespaces, `open`s, variables), by handle: the
  first command's is 0, as in the community REPL. -/
  envs : Array Command.State := #[]
  /-- Environments of import headers, by `importsKey`. -/
  headers : List (String × Command.State) := []
  proofs : Array ProofSnap := #[]
  /-- Reference statements already elaborated: (environment handle, text) and the theorem. -/
  references : List ((Option Nat × String) × ConstantInfo) := []

/-- `st.get` and `st.set`, monomorphic: the generic `IO.Ref` operations ask at each use for the
lift of `ST` into `IO`, an instance search that unfolds the monad stack (time at each start). -/
def readSt (st : IO.Ref State) : IO State := st.get
def writeSt (st : IO.Ref State) (s : State) : IO Unit := st.set s

/-- The command state a request's `"env"` names (`none`: the base environment). -/
def envAt (s : State) : Option Nat → Option Command.State
  | none => some s.base
  | some i => s.envs[i]?

def unknownEnv : String := "Unknown environment."

def marker : String := "@@LEANCOT@@ "

/-- The heartbeat limit of a command or tactic when the request sets none: Lean's default
`maxHeartbeats`, in thousands as `set_option maxHeartbeats` counts (a request's
`"maxHeartbeats"` uses the same unit). -/
def defaultMaxHeartbeats : Nat := 200000

/-- Synchronous elaboration (messages land in the command state) and the default heartbeat
limit; for leancot's client (`leancot`) also no auto-bound implicits: an unknown name in a
statement is an error, as in Mathlib. The community protocol keeps Lean's default. -/
def baseOptions (leancot : Bool := true) : Options :=
  let o := (({} : Options).setBool `Elab.async false).setNat `maxHeartbeats defaultMaxHeartbeats
  if leancot then o.setBool `autoImplicit false else o

/-! ## Own folds

Each stands for the library function named in its comment: the library's generic folds and maps
are compiled through specialised, private or `_redArg` helpers, which the WASM build's
interpreter cannot run (see the header). The same holds for the small walks further down (each
names the function it replaces). -/

/-- `Array.foldl f b xs[i:]`. -/
partial def arrFold (f : β → α → β) (xs : Array α) (i : Nat) (b : β) : β :=
  if h : i < xs.size then arrFold f xs (i + 1) (f b (xs[i]'h)) else b

/-- `PersistentArray.foldl` on one node of the trie. -/
partial def paNodeFold (f : β → α → β) (n : PersistentArrayNode α) (b : β) : β :=
  match n with
  | .node cs => arrFold (fun b c => paNodeFold f c b) cs 0 b
  | .leaf vs => arrFold f vs 0 b

/-- `PersistentArray.foldl`: the trie, then the tail. -/
def paFold (f : β → α → β) (xs : PersistentArray α) (b : β) : β :=
  arrFold f xs.tail 0 (paNodeFold f xs.root b)

/-- `PersistentArray.toArray`. -/
def paToArray (xs : PersistentArray α) : Array α :=
  paFold (fun acc x => acc.push x) xs #[]

/-- `MessageLog.toArray` of the messages not yet reported. -/
def logMessages (log : MessageLog) : Array Message := paToArray log.unreported

/-- `List.reverseAux` (`List.reverse` needs `List.reverse._redArg`). -/
def reverseList : List α → List α → List α
  | [], acc => acc
  | x :: xs, acc => reverseList xs (x :: acc)

/-! ## JSON helpers -/

def posJson (p : Position) : Json :=
  Json.mkObj [("line", toJson p.line), ("column", toJson p.column)]

def severityName : MessageSeverity → String
  | .error => "error"
  | .warning => "warning"
  | .information => "info"

/-- `String.trimAscii` (which goes through private `String.Slice` helpers): without the ASCII
blanks at both ends. -/
def trimText (s : String) : String :=
  let b := s.toUTF8
  let isBlankByte (c : UInt8) : Bool := c == 32 || c == 9 || c == 10 || c == 13
  let rec start (i : Nat) (fuel : Nat) : Nat :=
    match fuel with
    | 0 => i
    | f + 1 => if i < b.size && isBlankByte (b.get! i) then start (i + 1) f else i
  let rec stop (j : Nat) (fuel : Nat) : Nat :=
    match fuel with
    | 0 => j
    | f + 1 => if j > 0 && isBlankByte (b.get! (j - 1)) then stop (j - 1) f else j
  let i := start 0 b.size
  let j := stop b.size b.size
  if i == 0 && j == b.size then s
  else if i >= j then ""
  else String.fromUTF8! (b.extract i j)

def messageJson (m : Message) : IO Json := do
  let data := trimText (← m.data.toString)
  let endPos := match m.endPos with
    | some p => posJson p
    | none => Json.null
  return Json.mkObj [("severity", Json.str (severityName m.severity)), ("pos", posJson m.pos),
    ("endPos", endPos), ("data", Json.str data)]

/-- `ms.mapM messageJson` from index `i` (`Array.mapM` needs private `Array.mapMUnsafe.map`). -/
partial def messagesJsonAux (ms : Array Message) (i : Nat) (acc : Array Json) : IO (Array Json) := do
  if h : i < ms.size then messagesJsonAux ms (i + 1) (acc.push (← messageJson (ms[i]'h))) else return acc

def messagesJson (ms : Array Message) : IO Json := do
  return Json.arr (← messagesJsonAux ms 0 #[])

def hasErrors (log : MessageLog) : Bool :=
  paFold (fun b m => b || m.severity == .error) log.unreported false

/-- The error messages' texts, one a line: an `Array.foldlM` by hand. -/
partial def errorTextAux (ms : Array Message) (i : Nat) (acc : String) : IO String := do
  if h : i < ms.size then
    let m := ms[i]'h
    if m.severity == .error then
      errorTextAux ms (i + 1) (acc ++ (← m.data.toString) ++ "\n")
    else errorTextAux ms (i + 1) acc
  else return acc

def errorJson (msg : String) : Json := Json.mkObj [("message", Json.str msg)]

/-! ## Names

Names that leave the REPL as declaration or constant names (`decl`, `constants`, the theorems,
axioms and constants of a `verify` reply, error messages) are printed as Lean prints them, with
`«»` around a component that is not an identifier (`«my thm»`, `x.«1»`), so that the text parses
back to the same name (LeanDojo's `full_name`s are printed so too). Syntax kinds and the names
the allow-list compares stay unescaped (`nameText`). `Name.toString` itself cannot run here
(`Name.toStringWithToken._at_.Name.toString.spec_0`), nor can `String.all`/`String.drop` (private
`String.Slice` helpers); the character classes (`isIdFirst`, `isIdRest`, …) can. -/

/-- A key for caches: the components joined by dots, never escaped. -/
def nameKey : Name → String
  | .anonymous => ""
  | .str p s => nameKey p ++ "." ++ s
  | .num p n => nameKey p ++ "." ++ Nat.repr n

/-- `Name.toString (escape := false)`: components joined by dots, as the allow-list compares
them and as syntax kinds are reported. -/
def nameText : Name → String
  | .anonymous => "[anonymous]"
  | .str .anonymous s => s
  | .num .anonymous n => Nat.repr n
  | .str p s => nameText p ++ "." ++ s
  | .num p n => nameText p ++ "." ++ Nat.repr n

/-- `cs.all isIdRest` (a `List.all` by hand). -/
def allIdRest : List Char → Bool
  | [] => true
  | c :: cs => isIdRest c && allIdRest cs

/-- `cs.any isIdEndEscape`. -/
def anyEndEscape : List Char → Bool
  | [] => false
  | c :: cs => isIdEndEscape c || anyEndEscape cs

/-- `Name.escapePart`: the component as is if it is an identifier, else between `«` and `»`;
unchanged if it contains `»` (which cannot be escaped). -/
def escapePart (s : String) : String :=
  match s.toList with
  | c :: cs => if isIdFirst c && allIdRest cs then s else quoted s (c :: cs)
  | [] => quoted s []
where
  quoted (s : String) (cs : List Char) : String :=
    if anyEndEscape cs then s else "«" ++ s ++ "»"

/-- `Name.toStringWithSep "." true`: every string component escaped, numbers as they are. -/
def escapedText : Name → String
  | .anonymous => "[anonymous]"
  | .str .anonymous s => escapePart s
  | .num .anonymous n => Nat.repr n
  | .str p s => escapedText p ++ "." ++ escapePart s
  | .num p n => escapedText p ++ "." ++ Nat.repr n

/-- `Name.toString` (escaped): like `escapedText`, except that, as Lean does, names with macro
scopes, inaccessible names (`x✝`) and the delaborator's pseudo-syntax (`_`, `#0`, `?u`) are
printed unescaped. -/
def nameSource (n : Name) : String :=
  let pseudo := n == `_ || match n.getRoot with
    | .str _ s => match s.toList with
      | c :: _ => c == '#' || c == '?'
      | [] => false
    | _ => false
  if n.isInaccessibleUserName || n.hasMacroScopes || pseudo then nameText n else escapedText n

/-! ## Goals -/

/-- `gs.mapM ppGoal`, as JSON strings (a `List.mapM` by hand). -/
partial def ppGoalsAux (gs : List MVarId) (acc : Array Json) : MetaM (Array Json) := do
  match gs with
  | [] => return acc
  | g :: rest =>
    let fmt ← ppGoal g
    ppGoalsAux rest (acc.push (Json.str (toString fmt)))

/-- Run a MetaM action in a saved context (a hand-written `MetaM.toIO`/`CoreM.toIO`), with a limit
of `maxHeartbeats` thousand heartbeats; errors logged or thrown come back as text. -/
def runMetaIn (env : Environment) (mctx : MetavarContext) (opts : Options) (ns : Name)
    (openDecls : List OpenDecl) (ngenTag : Nat) (x : MetaM α)
    (maxHeartbeats : Nat := defaultMaxHeartbeats) (lctx : LocalContext := {})
    (ngenRoot : Name := `_leancot) : IO (Except String (α × Environment)) := do
  -- heartbeats count from now: the process's counter only grows, and without this every tactic
  -- fails with "maximum number of heartbeats" once enough has been elaborated
  let heartbeats ← IO.getNumHeartbeats
  let coreCtx : Core.Context := {
    fileName := "<leancot>", fileMap := FileMap.ofString "", options := opts,
    currNamespace := ns, openDecls := openDecls, initHeartbeats := heartbeats,
    maxHeartbeats := maxHeartbeats * 1000 }
  let coreState : Core.State := {
    env := env, ngen := { namePrefix := Name.mkNum ngenRoot ngenTag, idx := 1 } }
  let core : CoreM α := do
    let (a, _) ← x.run { lctx := lctx } { mctx := mctx }
    return a
  let r ← (core.run coreCtx coreState).toBaseIO
  match r with
  | .ok (a, st) =>
    if hasErrors st.messages then
      return .error (← errorTextAux (logMessages st.messages) 0 "")
    return .ok (a, st.env)
  | .error e => return .error (← e.toMessageData.toString)

/-! ## Commands -/

/-- Where a `sorry` stands: a tactic `sorry` (its goal) or a term `sorry` (its local context and
expected type, from which a fresh goal is made). -/
inductive SorryKind where
  | tactic (info : TacticInfo)
  | term (info : TermInfo)

/-- A `sorry` of a command, with the context it was elaborated in. -/
structure SorryAt where
  ctx : ContextInfo
  stx : Syntax
  kind : SorryKind

/-- The tactic `sorry`s and term `sorry`s of an info tree, outermost first. A tactic `sorry`'s own
subtree (its expansion) is not searched again. -/
partial def collectSorries (ctx? : Option ContextInfo) (t : InfoTree) (acc : Array SorryAt) :
    Array SorryAt :=
  match t with
  | .context pctx t => collectSorries (pctx.mergeIntoOuter? ctx?) t acc
  | .node info children =>
    match ctx?, info with
    | some ctx, .ofTacticInfo ti =>
      if ti.stx.getKind == ``Lean.Parser.Tactic.tacticSorry then acc.push ⟨ctx, ti.stx, .tactic ti⟩
      else paFold (fun acc c => collectSorries ctx? c acc) children acc
    | some ctx, .ofTermInfo ti =>
      let acc := if ti.stx.getKind == ``Lean.Parser.Term.sorry then
        acc.push ⟨ctx, ti.stx, .term ti⟩ else acc
      paFold (fun acc c => collectSorries ctx? c acc) children acc
    | _, _ => paFold (fun acc c => collectSorries ctx? c acc) children acc
  | .hole _ => acc

def sorriesOfTrees (ts : Array InfoTree) : Array SorryAt :=
  arrFold (fun acc t => collectSorries none t acc) ts 0 #[]

def importsKey (imports : Array Import) : String :=
  arrFold (fun acc (i : Import) => acc ++ nameKey i.module ++ ";") imports 0 ""

/-- `List.lookup` of a header's key. -/
def lookupHeader : List (String × Command.State) → String → Option Command.State
  | [], _ => none
  | (k, i) :: rest, key => if k == key then some i else lookupHeader rest key

/-- Commands elaborated from one input: the last command state, and the messages and info trees
of all of them. -/
structure Elaborated where
  cmdState : Command.State
  messages : Array Message
  trees : Array InfoTree

/-- Parse and elaborate the commands of `inputCtx` one after another, synchronously, keeping the
messages and info trees of all of them. (`IO.processCommands` runs each command as snapshot tasks,
and every task thread costs this WASM build a new worker: about 0.35 GB each.) -/
partial def elabCommands (inputCtx : Parser.InputContext) (ps : Parser.ModuleParserState)
    (cs : Command.State) (msgs : Array Message) (trees : Array InfoTree) : IO Elaborated := do
  let scope ← match cs.scopes with
    | s :: _ => pure s
    | [] => throw (IO.userError "internal error: a command state without scopes")
  let pmctx : Parser.ParserModuleContext :=
    { env := cs.env, options := scope.opts, currNamespace := scope.currNamespace,
      openDecls := scope.openDecls }
  let (cmd, ps', parseLog) := Parser.parseCommand inputCtx pmctx ps {}
  let cmdCtx : Command.Context :=
    { cmdPos := ps.pos, fileName := inputCtx.fileName, fileMap := inputCtx.fileMap,
      snap? := none, cancelTk? := none }
  let ref ← IO.mkRef { cs with messages := {}, infoState := { enabled := true } }
  match ← (Command.elabCommandTopLevel cmd cmdCtx ref).toIO' with
  | .error e => throw (IO.userError s!"internal error while elaborating: {← e.toMessageData.toString}")
  | .ok () =>
    let cs' ← ref.get
    let msgs := paFold (fun a m => a.push m) cs'.messages.unreported
      (paFold (fun a m => a.push m) parseLog.unreported msgs)
    let trees := paFold (fun a t => a.push t) cs'.infoState.trees trees
    let cs' := { cs' with messages := {}, infoState := {} }
    if Parser.isTerminalCommand cmd then return { cmdState := cs', messages := msgs, trees }
    else elabCommands inputCtx ps' cs' msgs trees

/-- `maxHeartbeats` as set in options' entries (a `KVMap.find` by hand), if it is set. -/
def heartbeatsIn : List (Name × DataValue) → Option Nat
  | [] => none
  | (k, v) :: rest =>
    if k == `maxHeartbeats then match v with
      | .ofNat n => some n
      | _ => none
    else heartbeatsIn rest

/-- Option `name` is set in options' entries. -/
def optionSet : List (Name × DataValue) → Name → Bool
  | [], _ => false
  | (k, _) :: rest, name => k == name || optionSet rest name

/-- Every scope of `cs` with `autoImplicit false` unless the scope sets it. -/
def noAutoImplicit (cs : Command.State) : Command.State :=
  { cs with scopes := go cs.scopes }
where
  go : List Command.Scope → List Command.Scope
    | [] => []
    | sc :: rest =>
      let sc := if optionSet sc.opts.entries `autoImplicit then sc
        else { sc with opts := sc.opts.setBool `autoImplicit false }
      sc :: go rest

/-- Every scope of `cs` with its `maxHeartbeats` changed by `f` (a `List.map` by hand). -/
def mapHeartbeats (cs : Command.State) (f : Option Nat → Option Nat) : Command.State :=
  { cs with scopes := go cs.scopes }
where
  go : List Command.Scope → List Command.Scope
    | [] => []
    | s :: rest =>
      let opts := match f (heartbeatsIn s.opts.entries) with
        | some n => s.opts.setNat `maxHeartbeats n
        | none => s.opts
      { s with opts } :: go rest

/-- Elaborate `input` in `base` (or in the environment of its own `import` header) with a limit of
`maxHeartbeats?` thousand heartbeats when given. That limit is the request's own: in the state
that is kept, a scope whose limit is still the request's gets the limit `base` had again (a
`set_option maxHeartbeats` in the text to another value stays). -/
def elabInput (base : Command.State) (input : String) (withHeader : Bool)
    (headers : List (String × Command.State)) (opts : Options) (maxHeartbeats? : Option Nat) :
    IO (Except String (Elaborated × Option (String × Command.State) × Environment)) := do
  let inputCtx := Parser.InputContext.mk' input "<input>" (FileMap.ofString input) input.rawEndPos
  let (base, parserState, newHeader) ← if withHeader then do
      let (header, parserState, msgs) ← Parser.parseHeader inputCtx
      if hasErrors msgs then
        return .error "could not parse the header"
      let imports := headerToImports header
      let key := importsKey imports
      match lookupHeader headers key with
      | some e => pure (e, parserState, none)
      | none =>
        let env ← importModules imports opts (loadExts := true)
        let fresh := Command.mkState env {} opts
        pure (fresh, parserState, some (key, fresh))
    else
      pure (base, ({} : Parser.ModuleParserState), none)
  match maxHeartbeats? with
  | none => return .ok (← elabCommands inputCtx parserState base {} {}, newHeader, base.env)
  | some hb =>
    let orig := match base.scopes with
      | s :: _ => (heartbeatsIn s.opts.entries).getD defaultMaxHeartbeats
      | [] => defaultMaxHeartbeats
    -- the request's limit is a ceiling: a lower limit the environment already has (a
    -- `set_option maxHeartbeats` of an earlier command) still holds; 0 is "no limit" on both sides
    let lim := if hb == 0 then orig else if orig == 0 then hb else Nat.min orig hb
    let s ← elabCommands inputCtx parserState (mapHeartbeats base fun _ => some lim) {} {}
    let kept := mapHeartbeats s.cmdState fun v => if v == some lim then some orig else v
    return .ok ({ s with cmdState := kept }, newHeader, base.env)

/-! ## Traced tactics (`"allTactics": true`), for the extractor (leancot/extract/) -/

/-- A tactic node with its context and the global constants its identifiers elaborated to. -/
structure TacticAt where
  ctx : ContextInfo
  info : TacticInfo
  consts : Array Name

partial def constantsOf (t : InfoTree) (acc : Array Name) : Array Name :=
  match t with
  | .context _ t => constantsOf t acc
  | .node info children =>
    let acc := match info with
      | .ofTermInfo ti =>
        if ti.stx.isIdent then
          match ti.expr.getAppFn with
          | .const n _ => if arrFold (fun b m => b || m == n) acc 0 false then acc else acc.push n
          | _ => acc
        else acc
      | _ => acc
    paFold (fun acc c => constantsOf c acc) children acc
  | .hole _ => acc

/-- The community REPL's "substantive" tactics: not a combinator or structuring tactic (`by`,
`;`, tactic sequences, parentheses, `·`, `<;>`). -/
def isSubstantive (stx : Syntax) : Bool :=
  match stx with
  | .node _ k _ =>
    !(k == `null || k == ``Lean.cdot || k == ``Lean.cdotTk || k == ``Lean.Parser.Term.byTactic ||
      k == ``Lean.Parser.Tactic.tacticSeq || k == ``Lean.Parser.Tactic.tacticSeq1Indented ||
      k == ``Lean.Parser.Tactic.«tactic_<;>_» || k == ``Lean.Parser.Tactic.paren)
  | _ => false

def isOriginal (stx : Syntax) : Bool :=
  match stx.getHeadInfo with
  | .original .. => true
  | _ => false

/-- The tactic nodes of an info tree, outermost first: all of them, or (`selected`) only those
the community REPL reports, with original syntax and substantive (`isSubstantive`). -/
partial def collectTactics (selected : Bool) (ctx? : Option ContextInfo) (t : InfoTree)
    (acc : Array TacticAt) : Array TacticAt :=
  match t with
  | .context pctx t => collectTactics selected (pctx.mergeIntoOuter? ctx?) t acc
  | .node info children =>
    let acc := match ctx?, info with
      | some ctx, .ofTacticInfo ti =>
        if !selected || (isOriginal ti.stx && isSubstantive ti.stx) then
          acc.push ⟨ctx, ti, paFold (fun acc c => constantsOf c acc) children #[]⟩
        else acc
      | _, _ => acc
    paFold (fun acc c => collectTactics selected ctx? c acc) children acc
  | .hole _ => acc

/-- The metavariables of an expression (a `collectMVars` by hand). -/
partial def mvarsOf (e : Expr) (acc : Array MVarId) : Array MVarId :=
  match e with
  | .mvar m => acc.push m
  | .app f a => mvarsOf a (mvarsOf f acc)
  | .lam _ t b _ | .forallE _ t b _ => mvarsOf b (mvarsOf t acc)
  | .letE _ t v b _ => mvarsOf b (mvarsOf v (mvarsOf t acc))
  | .mdata _ b => mvarsOf b acc
  | .proj _ _ b => mvarsOf b acc
  | _ => acc

/-- The constants a tactic's goal assignments use, following assigned metavariables (the
community REPL's `getUsedConstantsAsSet`), in `NameSet` order. -/
partial def tacticConstants (mctx : MetavarContext) (goals : List MVarId) : Array Name :=
  (go (reverseList goals []) 0 {}).foldl (fun acc n => acc.push n) #[]
where
  go (todo : List MVarId) (fuel : Nat) (acc : NameSet) : NameSet :=
    match todo with
    | [] => acc
    | m :: rest =>
      if fuel > 100000 then acc else
      match mctx.getExprAssignmentCore? m with
      | none => go rest (fuel + 1) acc
      | some e =>
        let acc := arrFold (fun (a : NameSet) n => a.insert n) e.getUsedConstants 0 acc
        let more := arrFold (fun l m => m :: l) (mvarsOf e #[]) 0 rest
        go more (fuel + 1) acc

def ppGoalsIn (ctx : ContextInfo) (mctx : MetavarContext) (gs : List MVarId) : IO Json := do
  match ← runMetaIn ctx.env mctx ctx.options ctx.currNamespace ctx.openDecls 0 (ppGoalsAux gs #[]) with
  | .ok (pp, _) => return Json.arr pp
  | .error e => return Json.arr #[Json.str s!"<error printing goals: {e}>"]

/-- Goals as one text, as the community REPL prints them (`no goals` when there are none). -/
def goalsText (pp : Json) : String :=
  match pp with
  | Json.arr gs =>
    if gs.size == 0 then "no goals" else
    arrFold (fun acc g => match g with
      | Json.str t => if acc.isEmpty then t else acc ++ "\n\n" ++ t
      | _ => acc) gs 0 ""
  | _ => ""

def ppTacticIn (ctx : ContextInfo) (stx : Syntax) : IO String := do
  match ← runMetaIn ctx.env ctx.mctx ctx.options ctx.currNamespace ctx.openDecls 0
      (do return toString (← PrettyPrinter.ppTactic ⟨stx⟩)) with
  | .ok (text, _) => return text
  | .error _ => return "<failed to pretty print>"

/-- A traced tactic as JSON: leancot's fields (`kind, decl, goalsBefore, goalsAfter, constants`)
and the community REPL's (`tactic, goals, usedConstants, pos, endPos`, and `proofState` when
given). `extractor`: only what leancot's extractor reads (kind, positions,
declaration, goals before and after, constants), without the community REPL's `tactic` (the
tactic pretty-printed), `goals` and `usedConstants` (a walk over the proof term): on the bundled
corpus those two made every file's extraction about 1.4x slower. -/
def tacticJson (t : TacticAt) (proofState? : Option Nat := none) (extractor : Bool := false) :
    IO Json := do
  let fm := t.ctx.fileMap
  let pos := fm.toPosition (t.info.stx.getPos?.getD 0)
  let endPos := fm.toPosition (t.info.stx.getTailPos?.getD 0)
  let decl := match t.ctx.parentDecl? with
    | some n => Json.str (nameSource n)
    | none => Json.null
  let before ← ppGoalsIn t.ctx t.info.mctxBefore t.info.goalsBefore
  if extractor then
    return Json.mkObj [("kind", Json.str (nameText t.info.stx.getKind)), ("pos", posJson pos),
      ("endPos", posJson endPos), ("decl", decl), ("goalsBefore", before),
      ("goalsAfter", ← ppGoalsIn t.ctx t.info.mctxAfter t.info.goalsAfter),
      ("constants", Json.arr (arrFold (fun acc n => acc.push (Json.str (nameSource n))) t.consts 0 #[]))]
  let used := tacticConstants t.info.mctxAfter t.info.goalsBefore
  let state := match proofState? with
    | some i => [("proofState", toJson i)]
    | none => []
  let tactic ← ppTacticIn t.ctx t.info.stx
  let after ← ppGoalsIn t.ctx t.info.mctxAfter t.info.goalsAfter
  let usedJson : Json := Json.arr (arrFold (fun acc n => acc.push (Json.str (nameText n))) used 0 #[])
  let constsJson : Json :=
    Json.arr (arrFold (fun acc n => acc.push (Json.str (nameSource n))) t.consts 0 #[])
  -- the fields as one list literal before `state` (a long `::` chain with `←` inside took seconds
  -- to elaborate)
  let fields : List (String × Json) := [("tactic", Json.str tactic),
    ("goals", Json.str (goalsText before)), ("usedConstants", usedJson),
    ("kind", Json.str (nameText t.info.stx.getKind)), ("pos", posJson pos),
    ("endPos", posJson endPos), ("decl", decl), ("goalsBefore", before), ("goalsAfter", after),
    ("constants", constsJson)]
  return Json.mkObj (reverseList (reverseList fields []) state)  -- `fields ++ state`

/-! ## Verification (`"verify"` requests, for leancot/lean/verify.py)

The text is untrusted. It is parsed one command at a time with Lean's own parser, and each command
is checked against an allow-list before it is elaborated, so a rejected command never runs. Then
what Lean built is inspected: the constants the text added, the expected theorem's kind and type
against those of the reference statement (elaborated alone), the axioms each theorem depends on
(`collectAxioms`), and every added constant is checked again by the kernel, in dependency order, in
the environment the text started from (so options such as `debug.skipKernelTC` cannot help). -/

/-- What a text may contain: a candidate proof (one theorem, optionally under `open … in` or
`set_option … in`) or a file (declarations, `open`, `namespace`, `variable`, notation, …). -/
inductive CheckMode where
  | theorem
  | file
deriving BEq

structure Limits where
  mode : CheckMode := .theorem
  maxHeartbeats : Nat := 1000000
  maxRecDepth : Nat := 10000
  allowNative : Bool := false
  /-- The reference statement is checked too, with its own `sorry` allowed. -/
  allowSorry : Bool := false

def lastComponent : Name → String
  | .str _ s => s
  | .num _ n => Nat.repr n
  | .anonymous => ""

/-- `List.contains` for strings. -/
partial def strIn : List String → String → Bool
  | [], _ => false
  | x :: xs, s => x == s || strIn xs s

/-- `List.contains` for names. -/
partial def nameIn : List Name → Name → Bool
  | [], _ => false
  | x :: xs, n => x == n || nameIn xs n

/-- `p` is `n` or a prefix of it, by components (`Foo` of `Foo.bar`, not of `Foobar`):
`Name.isPrefixOf`, by hand. -/
partial def namePrefix (p : Name) : Name → Bool
  | .anonymous => p == .anonymous
  | n@(.str q _) => p == n || namePrefix p q
  | n@(.num q _) => p == n || namePrefix p q

/-- The first keyword of a piece of syntax (`#eval`, `run_tac`), else its kind (`go` is an
`Array.findSome?` over the arguments, by hand). -/
partial def syntaxWord (stx : Syntax) : String :=
  (go stx).getD (nameText stx.getKind)
where
  go : Syntax → Option String
    | .atom _ v => some v
    | .node _ _ args => arrFold (fun acc a => match acc with
        | some w => some w
        | none => go a) args 0 none
    | _ => none

/-- Term and tactic syntax that runs code supplied in the text (by the last name component). -/
def codeKinds : List String :=
  ["runTac", "byElab", "runElab", "runCmd", "runMeta", "eval", "evalBang", "unsafe", "partial"]

/-- Attributes that tag or change reducibility; any other attribute is refused. -/
def allowedAttributes : List String :=
  ["simp", "reducible", "irreducible", "semireducible", "instance", "inline", "noinline",
   "specialize", "ext", "norm_cast", "push_cast", "elab_as_elim", "induction_eliminator",
   "cases_eliminator", "refl", "symm", "trans", "congr", "grind", "gcongr", "mono", "nolint",
   "simps", "deprecated", "match_pattern", "inherit_doc", "local", "scoped", "expose"]

/-- The number a numeral's text spells (`400_000` too), if it is one (`String.toNat?` neither
reads `_` separators nor runs here). -/
partial def digitsValue : List Char → Nat → Bool → Option Nat
  | [], acc, seen => if seen then some acc else none
  | c :: cs, acc, seen =>
    if c == '_' then digitsValue cs acc seen
    else if '0' ≤ c && c ≤ '9' then digitsValue cs (10 * acc + (c.toNat - '0'.toNat)) true
    else none

/-- Options that change only printing, tracing, linting or elaboration limits (bounded). -/
def optionProblem (lim : Limits) (name : Name) (value : Syntax) : Option String :=
  let text := nameText name
  let root := match name.components with
    | r :: _ => nameText r
    | [] => ""
  let number := digitsValue (syntaxWord value).toList 0 false
  let bounded (bound : Nat) : Option String := match number with
    | none => some s!"`set_option {text}` needs a number"
    | some 0 => some s!"`set_option {text} 0` (no limit) is not allowed"
    | some v => if v > bound then some s!"`set_option {text} {v}` is above the bound {bound}" else none
  if strIn ["pp", "trace", "linter"] root then none
  else if strIn ["diagnostics", "autoImplicit", "relaxedAutoImplicit", "synthInstance.maxSize"] text
  then none
  else if text == "maxHeartbeats" || text == "synthInstance.maxHeartbeats" then
    bounded lim.maxHeartbeats
  else if text == "maxRecDepth" then bounded lim.maxRecDepth
  else some s!"`set_option {text}` is not allowed (allowed: pp.*, trace.*, linter.*, maxHeartbeats, maxRecDepth, …)"

def attributeName (attr : Syntax) : String :=
  if attr.getKind == ``Lean.Parser.Attr.simple then nameText (attr.getArg 0).getId
  else lastComponent attr.getKind

/-- Problems anywhere inside a command: code-running syntax, `sorry`, `native_decide`, options
and attributes off the allow-lists. -/
partial def syntaxProblems (lim : Limits) (stx : Syntax) (acc : Array (Syntax × String)) :
    Array (Syntax × String) :=
  match stx with
  | .node _ k args =>
    let last := lastComponent k
    let acc :=
      if strIn codeKinds last then acc.push (stx, s!"`{syntaxWord stx}` runs code or is unsafe")
      -- in a file, `sorry` and `native_decide` fail only their theorem (through its axioms)
      else if lim.mode == .theorem && !lim.allowSorry && (k == ``Lean.Parser.Term.sorry ||
          k == ``Lean.Parser.Tactic.tacticSorry || k == ``Lean.Parser.Tactic.tacticAdmit) then
        acc.push (stx, "`sorry` is not a proof")
      else if lim.mode == .theorem && !lim.allowNative && k == ``Lean.Parser.Tactic.nativeDecide then
        acc.push (stx, "`native_decide` trusts the compiler")
      else if lim.mode == .theorem && !lim.allowNative && (k == ``Lean.Parser.Tactic.posConfigItem ||
          k == ``Lean.Parser.Tactic.valConfigItem) &&
          (lastComponent (stx.getArg 1).getId == "native" || lastComponent (stx.getArg 0).getId == "native") then
        acc.push (stx, "`native` evaluation trusts the compiler")
      else if k == ``Lean.Parser.Command.set_option || k == ``Lean.Parser.Term.set_option ||
          k == ``Lean.Parser.Tactic.set_option then
        -- the value follows the name (after an empty node in the tactic and term forms)
        let value := if (stx.getArg 2).getNumArgs == 0 && (stx.getArg 2).isOfKind nullKind then (stx.getArg 3) else (stx.getArg 2)
        match optionProblem lim (stx.getArg 1).getId value with
        | some p => acc.push (stx, p)
        | none => acc
      else if k == ``Lean.Parser.Term.attrInstance then
        let name := attributeName (stx.getArg 1)
        if strIn allowedAttributes name then acc
        else acc.push (stx, s!"attribute `{name}` is not allowed (it may run code)")
      else acc
    arrFold (fun acc a => syntaxProblems lim a acc) args 0 acc
  | _ => acc

/-- Declaration kinds a file may contain (`axiom` is refused: nothing may be assumed). -/
def fileDeclKinds : List String :=
  ["theorem", "definition", "abbrev", "instance", "example", "structure", "inductive",
   "classInductive", "opaque"]

/-- Commands a file may contain besides declarations (by the last component of their kind):
scopes, `open`, `variable`, `universe`, allowed options and attributes, notation, `#check`. -/
def fileCommandKinds : List String :=
  ["open", "namespace", "section", "end", "variable", "universe", "set_option",
   "noncomputableSection", "attribute", "moduleDoc", "check", "reduce", "reduceCmd", "print",
   "printAxioms", "export", "notation", "mixfix", "eoi"]

/-- Why a top-level command is not allowed in this mode (`none`: it is). -/
partial def commandProblem (mode : CheckMode) (stx : Syntax) : Option String :=
  let k := stx.getKind
  if k == ``Lean.Parser.Command.in then
    let first := (stx.getArg 0).getKind
    if first == ``Lean.Parser.Command.open || first == ``Lean.Parser.Command.set_option then
      commandProblem mode (stx.getArg 2)
    else some s!"only `open … in` and `set_option … in` may wrap a command, not `{syntaxWord (stx.getArg 0)}`"
  else if k == ``Lean.Parser.Command.declaration then
    let d := lastComponent (stx.getArg 1).getKind
    if mode == .theorem then
      if d == "theorem" then none else some s!"expected the theorem, found a declaration `{d}`"
    else if d == "axiom" then some "new axioms are not allowed"
    else if strIn fileDeclKinds d then none
    else some s!"declarations of kind `{d}` are not allowed"
  else if lastComponent k == "lemma" then none
  else if mode == .file && k == ``Lean.Parser.Command.mutual then
    arrFold (fun acc c => match acc with
      | some p => some p
      | none => commandProblem mode c) (stx.getArg 1).getArgs 0 none
  else if mode == .file && strIn fileCommandKinds (lastComponent k) then none
  else if mode == .theorem then
    some s!"only the theorem itself is allowed; found the command `{syntaxWord stx}`"
  else some s!"the command `{syntaxWord stx}` is not allowed (it may run code or change the environment)"

/-! ### Inspecting the environment -/

/-- `PersistentHashMap.foldl` on a collision node's parallel key and value arrays. -/
partial def collisionFold (f : γ → α → β → γ) (ks : Array α) (vs : Array β) (i : Nat) (acc : γ) : γ :=
  if h : i < ks.size then
    if h2 : i < vs.size then collisionFold f ks vs (i + 1) (f acc (ks[i]'h) (vs[i]'h2)) else acc
  else acc

/-- `PersistentHashMap.foldl` from a node. -/
partial def phmNodeFold (f : γ → α → β → γ) : PersistentHashMap.Node α β → γ → γ
  | .entries es, acc => arrFold (fun acc e => match e with
      | .entry k v => f acc k v
      | .ref n => phmNodeFold f n acc
      | .null => acc) es 0 acc
  | .collision ks vs _, acc => collisionFold f ks vs 0 acc

/-- The constants of `after` that `before` does not have. -/
def newConstants (before after : Environment) : Array Name :=
  phmNodeFold (fun acc n _ => if before.contains n then acc else acc.push n)
    after.constants.map₂.root #[]

def constKind : ConstantInfo → String
  | .axiomInfo _ => "axiom"
  | .defnInfo _ => "def"
  | .thmInfo _ => "theorem"
  | .opaqueInfo _ => "opaque"
  | .quotInfo _ => "quot"
  | .inductInfo _ => "inductive"
  | .ctorInfo _ => "constructor"
  | .recInfo _ => "recursor"

/-- `xs ++ ys` (`Array.append` needs `Array.append._redArg`). -/
def arrAppend (xs ys : Array α) : Array α := arrFold (fun acc y => acc.push y) ys 0 xs

/-- `List.length`. -/
partial def listLength : List α → Nat
  | [] => 0
  | _ :: xs => listLength xs + 1

def usedConstants (ci : ConstantInfo) : Array Name :=
  let inType := ci.type.getUsedConstants
  match ci.value? (allowOpaque := true) with
  | some v => arrAppend inType v.getUsedConstants
  | none => inType

def kernelAdd (env : Environment) (decl : Declaration) : IO Environment := do
  match env.addDeclCore 0 decl none with
  | .ok env => return env
  | .error e => throw (IO.userError (← (e.toMessageData {}).toString))

def lookupConst (env : Environment) (n : Name) : IO ConstantInfo := do
  match env.find? n with
  | some ci => return ci
  | none => throw (IO.userError s!"unknown constant {nameSource n}")

partial def inductiveTypes (orig : Environment) : List Name → IO (List InductiveType)
  | [] => return []
  | i :: rest => do
    let .inductInfo iv ← lookupConst orig i | throw (IO.userError s!"{nameSource i} is not an inductive type")
    let ctors ← ctorsOf iv.ctors
    return { name := i, type := iv.type, ctors } :: (← inductiveTypes orig rest)
where
  /-- `cs.mapM` of the constructors' types (a `List.mapM` by hand). -/
  ctorsOf : List Name → IO (List Constructor)
    | [] => return []
    | c :: cs => do
      let ci ← lookupConst orig c
      return { name := c, type := ci.type } :: (← ctorsOf cs)

/-- `env` with `decl` compiled (unchanged if it does not compile). -/
def compiled (env : Environment) (decl : Declaration) : IO Environment := do
  match ← runMetaIn env {} baseOptions .anonymous [] 0 (do compileDecl decl; getEnv) with
  | .ok (env', _) => return env'
  | .error _ => return env

/-- Add `n`, after the constants of the text it depends on, to `env` through the kernel. `orig` is
the environment the text built; `base` the one it started from; `visiting` the constants whose
dependencies are being added (a cycle is an error, not a loop). -/
partial def replayConst (base orig : Environment) (visiting : List Name) (env : Environment)
    (n : Name) : IO Environment := do
  if env.contains n then return env
  if nameIn visiting n then throw (IO.userError s!"cyclic dependency through {nameSource n}")
  if listLength visiting > 2000 then
    throw (IO.userError s!"dependencies nested too deeply at {nameSource n}")
  let ci ← lookupConst orig n
  match ci with
  | .ctorInfo v => replayConst base orig visiting env v.induct
  | .recInfo v => match v.all with
    | i :: _ => replayConst base orig visiting env i
    | [] => throw (IO.userError s!"recursor {nameSource n} of no inductive type")
  | .inductInfo v =>
    let tys ← inductiveTypes orig v.all
    -- the block's own types and constructors are added together, by the one declaration
    let own := tys.foldl (fun acc t => t.ctors.foldl (fun acc c => c.name :: acc) (t.name :: acc)) []
    let deps := tys.foldl (fun acc t => t.ctors.foldl (fun acc c => arrAppend acc c.type.getUsedConstants)
        (arrAppend acc t.type.getUsedConstants)) #[]
    let env ← replayAll base orig (own.foldl (fun acc m => m :: acc) visiting) env deps.toList
    kernelAdd env (.inductDecl v.levelParams v.numParams tys v.isUnsafe)
  | _ =>
    let env ← replayAll base orig (n :: visiting) env (usedConstants ci).toList
    match ci with
    | .thmInfo v => kernelAdd env (.thmDecl v)
    | .defnInfo v =>
      -- the compiler's own `partial` copies (`f._unsafe_rec`) may refer to themselves
      let decl := if v.safety == .safe then Declaration.defnDecl v else .mutualDefnDecl [v]
      let env ← kernelAdd env decl
      -- `native_decide` (when allowed) evaluates its auxiliary definition in the kernel
      if (lastComponent n).startsWith "_nativeDecide" then compiled env decl else return env
    | .opaqueInfo v => kernelAdd env (.opaqueDecl v)
    | .axiomInfo v => kernelAdd env (.axiomDecl v)
    | _ => throw (IO.userError s!"unexpected constant {nameSource n}")
where
  /-- `List.foldlM` of `replayConst` over the dependencies not yet there. -/
  replayAll (base orig : Environment) (visiting : List Name) (env : Environment) :
      List Name → IO Environment
    | [] => return env
    | d :: ds => do
      let env ← if base.contains d || !orig.contains d || nameIn visiting d then pure env
        else replayConst base orig visiting env d
      replayAll base orig visiting env ds

/-- Re-check every constant in `names` with the kernel, starting from `base`: the error, if any. -/
partial def kernelReplay (base orig : Environment) (names : Array Name) : IO (Option String) := do
  try
    let _ ← arrFoldIO (fun env n => replayConst base orig [] env n) names 0 base
    return none
  catch e => return some (toString e)
where
  /-- `Array.foldlM`, by hand. -/
  arrFoldIO (f : Environment → Name → IO Environment) (xs : Array Name) (i : Nat)
      (env : Environment) : IO Environment := do
    if h : i < xs.size then arrFoldIO f xs (i + 1) (← f env (xs[i]'h)) else return env

def axiomsJson (env : Environment) (thm : Name) : IO Json := do
  let r ← runMetaIn env {} baseOptions .anonymous [] 0 (collectAxioms thm : MetaM (Array Name))
  let mods := env.allImportedModuleNames
  match r with
  | .error e => return Json.mkObj [("theorem", Json.str (nameSource thm)), ("error", Json.str e)]
  | .ok (axs, _) =>
    let entries := arrFold (fun acc (a : Name) =>
      let module := match env.getModuleIdxFor? a with
        | some i => match mods[i.toNat]? with
          | some m => Json.str (nameSource m)
          | none => Json.str "?"
        | none => Json.null
      acc.push (Json.mkObj [("name", Json.str (nameSource a)), ("module", module)])) axs 0 #[]
    return Json.mkObj [("theorem", Json.str (nameSource thm)), ("axioms", Json.arr entries)]

def isUnsafeConst (env : Environment) (n : Name) : Bool :=
  match env.find? n with
  | some ci => ci.isUnsafe || isExtern env n || (Compiler.getImplementedBy? env n).isSome
  | none => false

/-! ### Elaborating with the allow-list -/

/-- The theorem a command declares (`theorem`/`lemma`, maybe under `… in`), resolved as Lean
names it: in the current namespace unless `_root_.`, mangled if `private`. -/
partial def declaredTheorem (cs : Command.State) (stx : Syntax) : Option Name :=
  let k := stx.getKind
  if k == ``Lean.Parser.Command.in then declaredTheorem cs (stx.getArg 2)
  else
    let inner := (stx.getArg 1)
    let isThm := (k == ``Lean.Parser.Command.declaration &&
      inner.getKind == ``Lean.Parser.Command.theorem) || lastComponent k == "lemma"
    if !isThm then none else
    let id := ((inner.getArg 1).getArg 0).getId
    let ns := match cs.scopes with
      | s :: _ => s.currNamespace
      | [] => .anonymous
    let full := if namePrefix `_root_ id then id.replacePrefix `_root_ .anonymous else ns ++ id
    let isPrivate := hasAtom "private" (stx.getArg 0)
    some (if isPrivate then mkPrivateName cs.env full else full)
where
  hasAtom (a : String) : Syntax → Bool
    | .atom _ v => v == a
    | .node _ _ args => arrFold (fun b c => b || hasAtom a c) args 0 false
    | _ => false


/-- A command of the text: where it is and the theorem it declared. -/
structure CommandAt where
  line : Nat
  endLine : Nat
  theorem? : Option Name

structure Screened where
  elaborated : Elaborated
  problems : Array Json := #[]
  commands : Array CommandAt := #[]

def problemJson (fm : FileMap) (stx : Syntax) (reason : String) : Json :=
  Json.mkObj [("pos", posJson (fm.toPosition (stx.getPos?.getD 0))),
    ("endPos", posJson (fm.toPosition (stx.getTailPos?.getD 0))), ("reason", Json.str reason)]

/-- Like `elabCommands`, but each command is checked before it is elaborated; the first rejected
command stops the run. In theorem mode only one command may come. -/
partial def elabScreened (lim : Limits) (inputCtx : Parser.InputContext)
    (ps : Parser.ModuleParserState) (cs : Command.State) (acc : Screened) : IO Screened := do
  let scope ← match cs.scopes with
    | s :: _ => pure s
    | [] => throw (IO.userError "internal error: a command state without scopes")
  let pmctx : Parser.ParserModuleContext :=
    { env := cs.env, options := scope.opts, currNamespace := scope.currNamespace,
      openDecls := scope.openDecls }
  let (cmd, ps', parseLog) := Parser.parseCommand inputCtx pmctx ps {}
  let fm := inputCtx.fileMap
  let terminal := Parser.isTerminalCommand cmd
  let structural := if terminal then none
    else if lim.mode == .theorem && acc.commands.size > 0 then
      some "the proof must not add commands after the theorem"
    else commandProblem lim.mode cmd
  let found := match structural with
    | some p => #[(cmd, p)]
    | none => syntaxProblems lim cmd #[]
  if found.size > 0 then
    let msgs := paFold (fun a m => a.push m) parseLog.unreported acc.elaborated.messages
    return { acc with
      elaborated := { acc.elaborated with cmdState := cs, messages := msgs },
      problems := arrFold (fun a (s, r) => a.push (problemJson fm s r)) found 0 acc.problems }
  let cmdCtx : Command.Context :=
    { cmdPos := ps.pos, fileName := inputCtx.fileName, fileMap := fm, snap? := none,
      cancelTk? := none }
  let ref ← IO.mkRef { cs with messages := {}, infoState := { enabled := true } }
  match ← (Command.elabCommandTopLevel cmd cmdCtx ref).toIO' with
  | .error e => throw (IO.userError s!"internal error while elaborating: {← e.toMessageData.toString}")
  | .ok () =>
    let cs' ← ref.get
    let e := acc.elaborated
    let msgs := paFold (fun a m => a.push m) cs'.messages.unreported
      (paFold (fun a m => a.push m) parseLog.unreported e.messages)
    let trees := paFold (fun a t => a.push t) cs'.infoState.trees e.trees
    let cs' := { cs' with messages := {}, infoState := {} }
    let elaborated := { cmdState := cs', messages := msgs, trees }
    if terminal then return { acc with elaborated }
    let here : CommandAt := {
      line := (fm.toPosition (cmd.getPos?.getD ps.pos)).line,
      endLine := (fm.toPosition (cmd.getTailPos?.getD ps'.pos)).line,
      theorem? := match declaredTheorem cs cmd with
        | some n => if cs'.env.contains n then some n else none
        | none => none }
    elabScreened lim inputCtx ps' cs' { acc with elaborated, commands := acc.commands.push here }

/-- `List.lookup` of a reference statement by (environment, text). -/
partial def findReference : List ((Option Nat × String) × ConstantInfo) → Option Nat → String →
    Option ConstantInfo
  | [], _, _ => none
  | ((i, t), ci) :: rest, envId, text =>
    if i == envId && t == text then some ci else findReference rest envId text

/-- The theorem a reference statement declares, elaborated alone in `base` (cached). -/
def referenceTheorem (st : IO.Ref State) (envId : Option Nat) (base : Command.State) (text : String)
    (lim : Limits) :
    IO (Except String ConstantInfo) := do
  let s ← readSt st
  match findReference s.references envId text with
  | some ci => return .ok ci
  | none =>
  let inputCtx := Parser.InputContext.mk' text "<reference>" (FileMap.ofString text) text.rawEndPos
  -- the statement passes the same allow-list as the proof (its own `sorry` aside)
  let lim : Limits := { lim with allowSorry := true }
  let sc ← elabScreened lim inputCtx {} base
    { elaborated := { cmdState := base, messages := #[], trees := #[] } }
  if sc.problems.size > 0 then
    return .error s!"the statement is refused: {(Json.arr sc.problems).compress}"
  let r := sc.elaborated
  let errors ← errorTextAux r.messages 0 ""
  if !errors.isEmpty then return .error s!"the reference statement does not elaborate: {errors}"
  let thms := arrFold (fun acc n => match r.cmdState.env.find? n with
    | some ci@(.thmInfo _) => acc.push ci
    | _ => acc) (newConstants base.env r.cmdState.env) 0 #[]
  let best := arrFold (fun (b : Option ConstantInfo) ci => match b with
    | some c => if (nameText ci.name).utf8ByteSize < (nameText c.name).utf8ByteSize then some ci else some c
    | none => some ci) thms 0 none
  match best with
  | none => return .error "the reference statement declares no theorem"
  | some ci =>
    writeSt st { s with references := ((envId, text), ci) :: s.references }
    return .ok ci

def namesJson (ns : Array Name) : Json :=
  Json.arr (arrFold (fun acc n => acc.push (Json.str (nameSource n))) ns 0 #[])

def sameScope (a b : Command.State) : Bool :=
  match a.scopes, b.scopes with
  | x :: _, y :: _ =>
    listLength a.scopes == listLength b.scopes && x.currNamespace == y.currNamespace &&
      listLength x.openDecls == listLength y.openDecls &&
      listLength x.opts.entries == listLength y.opts.entries
  | _, _ => false

/-- Some proper prefix of `n` is a constant of `env` (a `Name.anyS`-style walk, by hand). -/
partial def extendsOldAux (env : Environment) : Name → Bool
  | .str p _ => env.contains p || extendsOldAux env p
  | .num p _ => env.contains p || extendsOldAux env p
  | .anonymous => false

/-- `X` for a private name `_private.M.0.X` (the module part `M` may be empty): Lean's
`privateToUserName`, by components with our own list walks. -/
partial def unprivate (n : Name) : Name :=
  match n.components with
  | .str .anonymous "_private" :: rest => rebuild (afterZero rest) .anonymous
  | _ => n
where
  afterZero : List Name → List Name
    | [] => []
    | .num .anonymous 0 :: rest => rest
    | _ :: rest => afterZero rest
  rebuild : List Name → Name → Name
    | [], acc => acc
    | c :: cs, acc => rebuild cs (acc ++ c)

def extendsOld (env : Environment) (n : Name) : Bool :=
  extendsOldAux env n || extendsOldAux env (unprivate n)

partial def handleVerify (st : IO.Ref State) (text : String) (reference? : Option String)
    (envId : Option Nat) (lim : Limits) : IO Json := do
  let s ← readSt st
  let some base := envAt s envId | return errorJson unknownEnv
  -- as strict as with leancot's options, whatever the protocol: no auto-bound implicits unless
  -- the environment's scope sets them
  let base := noAutoImplicit base
  let expected : Option ConstantInfo ← match reference? with
    | none => pure none
    | some r => do
      match ← referenceTheorem st envId base r lim with
      | .ok ci => pure (some ci)
      | .error e => return errorJson e
  let inputCtx := Parser.InputContext.mk' text "<input>" (FileMap.ofString text) text.rawEndPos
  let sc ← elabScreened lim inputCtx {} base { elaborated := { cmdState := base, messages := #[], trees := #[] } }
  let messages ← messagesJson sc.elaborated.messages
  if sc.problems.size > 0 then
    return Json.mkObj [("problems", Json.arr sc.problems), ("messages", messages)]
  let final := sc.elaborated.cmdState
  let env := final.env
  let added := newConstants base.env env
  let commands := arrFold (fun acc (c : CommandAt) => acc.push (Json.mkObj [
      ("line", toJson c.line), ("endLine", toJson c.endLine),
      ("theorem", match c.theorem? with
        | some n => Json.str (nameSource n)
        | none => Json.null)])) sc.commands 0 #[]
  let theorems := match expected with
    | some ci => #[ci.name]
    | none => arrFold (fun acc (c : CommandAt) => match c.theorem? with
        | some n => acc.push n
        | none => acc) sc.commands 0 #[]
  let axioms ← arrFoldM (fun acc n => do return acc.push (← axiomsJson env n)) theorems 0 #[]
  let kernel ← kernelReplay base.env env added
  let unsafeNames := arrFold (fun acc n => if isUnsafeConst env n then acc.push n else acc) added 0 #[]
  let common : List (String × Json) := [("messages", messages),
    ("sorries", toJson (sorriesOfTrees sc.elaborated.trees).size),
    ("commands", Json.arr commands), ("axioms", Json.arr axioms),
    ("kernel", match kernel with
      | none => Json.mkObj [("ok", Json.bool true)]
      | some e => Json.mkObj [("ok", Json.bool false), ("error", Json.str e)]),
    ("unsafe", namesJson unsafeNames)]
  match expected with
  | some ci =>
    -- besides the theorem's own auxiliaries, Lean may realize equation lemmas and matchers of
    -- constants that existed before (`f.eq_1` when a proof unfolds `f`); never an axiom
    let extra := arrFold (fun acc n =>
      let isAxiom := match env.find? n with
        | some (.axiomInfo _) => true
        | _ => false
      if !isAxiom && (namePrefix ci.name n || extendsOld base.env n) then acc else acc.push n)
      added 0 #[]
    let info := match env.find? ci.name with
      | some got => Json.mkObj [("name", Json.str (nameSource ci.name)), ("found", Json.bool true),
          ("kind", Json.str (constKind got)), ("typeMatches", Json.bool (got.type == ci.type)),
          ("levelsMatch", Json.bool (got.levelParams == ci.levelParams))]
      | none => Json.mkObj [("name", Json.str (nameSource ci.name)), ("found", Json.bool false)]
    return Json.mkObj (("theorem", info) :: ("extra", namesJson extra) ::
      ("scopeChanged", Json.bool !(sameScope base final)) :: common)
  | none =>
    let s ← readSt st
    writeSt st { s with envs := s.envs.push final }
    return Json.mkObj (("env", toJson s.envs.size) :: common)
where
  /-- `Array.foldlM`, by hand. -/
  arrFoldM (f : Array Json → Name → IO (Array Json)) (xs : Array Name) (i : Nat) (acc : Array Json) :
      IO (Array Json) := do
    if h : i < xs.size then arrFoldM f xs (i + 1) (← f acc (xs[i]'h)) else return acc

/-! ## The request loop -/

def addProof (st : IO.Ref State) (p : ProofSnap) : IO Nat := do
  let s ← readSt st
  writeSt st { s with proofs := s.proofs.push p }
  return s.proofs.size

/-- A fresh goal for a term `sorry`: its expected type in its local context (no goal when the
type was not known: a `sorry` that stands for a whole term always has one). Local instances of
that context are not registered again. The type is instantiated in the current context; the goal
is made in `into?` when given (see `sorryJson`). -/
def termSorryGoal (ti : TermInfo) (into? : Option MetavarContext) :
    MetaM (MVarId × MetavarContext) := do
  let some ty := ti.expectedType? | throwError "a term sorry without an expected type"
  let ty ← instantiateMVars ty
  if let some m := into? then setMCtx m
  let goal ← mkFreshExprMVarAt ti.lctx {} ty .syntheticOpaque
  return (goal.mvarId!, ← getMCtx)

/-- The goal and metavariable context a `sorry` leaves open. -/
def sorryGoal (s : SorryAt) (into? : Option MetavarContext) (tag : Nat) :
    IO (Except String (MVarId × MetavarContext)) := do
  match s.kind with
  | .tactic ti => match ti.goalsBefore with
    | [] => return .error "no goal"
    | g :: _ => return .ok (g, ti.mctxBefore)
  | .term ti =>
    let ctx := s.ctx
    -- a name of its own for the new goal (`_leancot_sorry.tag.1`): one made with the names of
    -- `runMetaIn`'s other callers would clash with a goal of the proof state it joins
    match ← runMetaIn ctx.env ctx.mctx ctx.options ctx.currNamespace ctx.openDecls tag
        (termSorryGoal ti into?) (ngenRoot := `_leancot_sorry) with
    | .ok (r, _) => return .ok r
    | .error e => return .error e

/-- A position as the community REPL reports it: `none` when it is unknown (line 0). -/
def posField (key : String) (p : Position) (rest : List (String × Json)) : List (String × Json) :=
  if p.line == 0 then rest else (key, posJson p) :: rest

/-- A `sorry`'s entry, with a new proof state for its goal in `env` (the environment before the
command, as the community REPL does: the declaration being elaborated is not there, so a proof
cannot use itself); `none` when the `sorry` has no goal. The goal of a term `sorry` left by a
tactic request is made in the proof state's metavariable context from before the tactic
(`into?`), as the community REPL does: there a named hole such as `?succ` still means the goal
of that name the proof state had. -/
def sorryJson (st : IO.Ref State) (env : Environment) (root? : Option MVarId)
    (into? : Option MetavarContext) (s : SorryAt) : IO (Option Json) := do
  let ctx := s.ctx
  -- each `sorry` with a goal gets a new proof state: the number of proof states is a fresh tag
  match ← sorryGoal s into? (← readSt st).proofs.size with
  | .error _ => return none
  | .ok (g, mctx) =>
    let goals ← runMetaIn ctx.env mctx ctx.options ctx.currNamespace ctx.openDecls 0
      (ppGoalsAux [g] #[])
    let goalText := match goals with
      | .ok (gs, _) => (gs[0]?.getD Json.null)
      | .error e => Json.str e
    let snap : ProofSnap := {
      env := env, mctx := mctx, root := root?.getD g, goals := [g],
      options := ctx.options, currNamespace := ctx.currNamespace, openDecls := ctx.openDecls }
    let id ← addProof st snap
    let fm := ctx.fileMap
    let pos := fm.toPosition (s.stx.getPos?.getD 0)
    let endPos := fm.toPosition (s.stx.getTailPos?.getD 0)
    return some (Json.mkObj (("goal", goalText) :: ("proofState", toJson id) ::
      posField "pos" pos (posField "endPos" endPos [])))

/-- `xs.toArray.mapM f` (a `List.mapM` by hand). -/
partial def mapIO (f : α → IO β) (xs : List α) (acc : Array β) : IO (Array β) := do
  match xs with
  | [] => return acc
  | x :: rest => mapIO f rest (acc.push (← f x))

/-- `xs.filterMapM f` (by hand). -/
partial def filterMapIO (f : α → IO (Option β)) (xs : List α) (acc : Array β) : IO (Array β) := do
  match xs with
  | [] => return acc
  | x :: rest => match ← f x with
    | some y => filterMapIO f rest (acc.push y)
    | none => filterMapIO f rest acc

/-- `(key, xs)` in front of `rest` unless `xs` is empty (the community REPL leaves out empty
lists). -/
def listField (key : String) (xs : Array Json) (rest : List (String × Json)) :
    List (String × Json) :=
  if xs.size == 0 then rest else (key, Json.arr xs) :: rest

/-- The goals a top-level tactic block starts from (`"rootGoals": true`): the first tactic node
of each tree, outermost first. -/
partial def rootTactics (ctx? : Option ContextInfo) (t : InfoTree) (acc : Array TacticAt) :
    Array TacticAt :=
  match t with
  | .context pctx t => rootTactics (pctx.mergeIntoOuter? ctx?) t acc
  | .node info children =>
    match ctx?, info with
    | some ctx, .ofTacticInfo ti => acc.push ⟨ctx, ti, #[]⟩
    | _, _ => paFold (fun acc c => rootTactics ctx? c acc) children acc
  | .hole _ => acc

/-- A proof state at the goals before a tactic node, in `env`. -/
def tacticSnap (st : IO.Ref State) (env : Environment) (t : TacticAt) : IO (Option Nat) := do
  -- a tactic run on no goals still gets a proof state (with no root: nothing to check)
  let g := match t.info.goalsBefore with
    | g :: _ => g
    | [] => { name := .anonymous }
  do
    let ctx := t.ctx
    let snap : ProofSnap := {
      env := env, mctx := t.info.mctxBefore, root := g, goals := t.info.goalsBefore,
      options := ctx.options, currNamespace := ctx.currNamespace, openDecls := ctx.openDecls }
    some <$> addProof st snap

/-- A root goal as a `sorry` entry: its goals, a proof state, the position of its tactic. -/
def rootGoalJson (st : IO.Ref State) (env : Environment) (t : TacticAt) : IO (Option Json) := do
  let some id ← tacticSnap st env t | return none
  let goals := goalsText (← ppGoalsIn t.ctx t.info.mctxBefore t.info.goalsBefore)
  let pos := t.ctx.fileMap.toPosition (t.info.stx.getPos?.getD 0)
  return some (Json.mkObj (("goal", Json.str goals) :: ("proofState", toJson id) ::
    posField "pos" pos (posField "endPos" pos [])))

/-- The community REPL's name for the kind of an info node. -/
def infoKind : Info → String
  | .ofTacticInfo _ => "TacticInfo"
  | .ofTermInfo _ => "TermInfo"
  | .ofPartialTermInfo _ => "PartialTermInfo"
  | .ofCommandInfo _ => "CommandInfo"
  | .ofMacroExpansionInfo _ => "MacroExpansionInfo"
  | .ofOptionInfo _ => "OptionInfo"
  | .ofFieldInfo _ => "FieldInfo"
  | .ofCompletionInfo _ => "CompletionInfo"
  | .ofUserWidgetInfo _ => "UserWidgetInfo"
  | .ofCustomInfo _ => "CustomInfo"
  | .ofFVarAliasInfo _ => "FVarAliasInfo"
  | .ofFieldRedeclInfo _ => "FieldRedeclInfo"
  | .ofChoiceInfo _ => "ChoiceInfo"
  | .ofDelabTermInfo _ => "DelabTermInfo"
  | .ofErrorNameInfo _ => "ErrorNameInfo"
  | .ofDocElabInfo _ => "DocElabInfo"
  | .ofDocInfo _ => "DocInfo"

/-- A name as `ToJson Name` writes it (`Name.toString`); `null` for the anonymous name. -/
def nameOrNull (n : Name) : Json :=
  if n.isAnonymous then Json.null else Json.str (nameSource n)

/-- A syntax node's `range`: where it starts and ends, and whether it is synthetic. -/
def stxRangeJson (fm : FileMap) (stx : Syntax) : Json :=
  let pos := stx.getPos?.getD 0
  Json.mkObj [("synthetic", Json.bool !(isOriginal stx)),
    ("start", posJson (fm.toPosition pos)),
    ("finish", posJson (fm.toPosition (stx.getTailPos?.getD pos)))]

/-- The kinds of a syntax node's arguments. -/
def argKindsJson (stx : Syntax) : Json :=
  Json.arr (arrFold (fun a (c : Syntax) => a.push (Json.str (nameSource c.getKind))) stx.getArgs 0 #[])

/-- A syntax node as the community REPL's full info trees give it: `pp` (the term pretty printer's
text in `lctx`, `null` where it fails), `kind`, `argKinds`, `range`. -/
def termStxJson (ctx : ContextInfo) (lctx : LocalContext) (stx : Syntax) : IO Json := do
  let pp ← runMetaIn ctx.env ctx.mctx ctx.options ctx.currNamespace ctx.openDecls 0
    (do try return some (toString (← PrettyPrinter.ppTerm ⟨stx⟩)) catch _ => return none)
    (lctx := lctx)
  let pp := match pp with
    | .ok (some text, _) => Json.str text
    | _ => Json.null
  return Json.mkObj [("pp", pp), ("kind", Json.str (nameSource stx.getKind)),
    ("argKinds", argKindsJson stx), ("range", stxRangeJson ctx.fileMap stx)]

/-- `ppExpr (← instantiateMVars e)` in `lctx`, as text. -/
def ppExprIn (ctx : ContextInfo) (lctx : LocalContext) (e : Expr) : IO String := do
  match ← runMetaIn ctx.env ctx.mctx ctx.options ctx.currNamespace ctx.openDecls 0
      (do return toString (← ppExpr (← instantiateMVars e))) (lctx := lctx) with
  | .ok (text, _) => return text
  | .error e => return s!"<error printing expression: {e}>"

/-- A tactic node's fields (`name, stx, goalsBefore, goalsAfter`), as in the `tactics` modes. -/
def tacticNodeJson (ctx : ContextInfo) (ti : TacticInfo) : IO Json := do
  let name := match ti.stx with
    | .node _ k _ => Json.str (nameSource k)
    | _ => Json.null
  let stx := Json.mkObj [("pp", Json.str (← ppTacticIn ctx ti.stx)),
    ("kind", Json.str (nameSource ti.stx.getKind)), ("argKinds", argKindsJson ti.stx),
    ("range", stxRangeJson ctx.fileMap ti.stx)]
  return Json.mkObj [("name", name), ("stx", stx),
    ("goalsBefore", ← ppGoalsIn ctx ti.mctxBefore ti.goalsBefore),
    ("goalsAfter", ← ppGoalsIn ctx ti.mctxAfter ti.goalsAfter)]

/-- The info trees of a command in full (`"infotree": "full"`), as the community REPL gives them:
every node `{"kind", "node", "children"}`, where `node` has the fields of a term, command or
tactic node and is `null` for the other kinds; a hole is `{"goalState": …}`. A node outside any
context (which Lean's frontend does not produce) has a `null` node. -/
partial def fullTreeJson (ctx? : Option ContextInfo) (t : InfoTree) : IO Json := do
  match t with
  | .context pctx t => fullTreeJson (pctx.mergeIntoOuter? ctx?) t
  | .node info children =>
    let kids ← arrMapIO (paToArray children) 0 #[] (fullTreeJson ctx?)
    let node ← match ctx?, info with
      | some ctx, .ofTermInfo ti => do
        let fields := [("elaborator", nameOrNull ti.elaborator),
          ("stx", ← termStxJson ctx ti.lctx ti.stx),
          ("expr", Json.str (← ppExprIn ctx ti.lctx ti.expr)), ("isBinder", Json.bool ti.isBinder)]
        let fields ← match ti.expectedType? with
          | some ty => pure (("expectedType", Json.str (← ppExprIn ctx ti.lctx ty)) :: fields)
          | none => pure fields
        pure (Json.mkObj fields)
      | some ctx, .ofCommandInfo ci => do
        pure (Json.mkObj [("elaborator", nameOrNull ci.elaborator),
          ("stx", ← termStxJson ctx {} ci.stx)])
      | some ctx, .ofTacticInfo ti => tacticNodeJson ctx ti
      | _, _ => pure Json.null
    return Json.mkObj [("kind", Json.str (infoKind info)), ("node", node),
      ("children", Json.arr kids)]
  | .hole g =>
    match ctx? with
    | some ctx =>
      let goals ← ppGoalsIn ctx ctx.mctx [g]
      let text := match goals with
        | Json.arr gs => (gs[0]?.getD (Json.str "")).getStr?.toOption.getD ""
        | _ => ""
      return Json.mkObj [("goalState", Json.str text)]
    | none => return Json.mkObj [("goalState", Json.null)]
where
  /-- `xs.mapM f`, by hand. -/
  arrMapIO (xs : Array InfoTree) (i : Nat) (acc : Array Json) (f : InfoTree → IO Json) :
      IO (Array Json) := do
    if h : i < xs.size then arrMapIO xs (i + 1) (acc.push (← f (xs[i]'h))) f else return acc

/-- The info trees of a command as JSON (`"infotree"`), as the community REPL gives them in
its modes `tactics` (only tactic nodes), `original` (those with original syntax) and
`substantive` (no combinators or structuring tactics); a node that is left out gives its place to
its children. Each node: `{"kind": "TacticInfo", "node": {name, stx: {pp, kind, argKinds,
range}, goalsBefore, goalsAfter}, "children"}`. -/
partial def tacticTreeJson (mode : String) (ctx? : Option ContextInfo) (t : InfoTree)
    (acc : Array Json) : IO (Array Json) := do
  match t with
  | .context pctx t => tacticTreeJson mode (pctx.mergeIntoOuter? ctx?) t acc
  | .node info children =>
    let kids ← arrFoldIO (paToArray children) 0 #[] fun a c => tacticTreeJson mode ctx? c a
    match ctx?, info with
    | some ctx, .ofTacticInfo ti =>
      let keep := (mode == "tactics") || (mode == "original" && isOriginal ti.stx) ||
        (mode == "substantive" && isSubstantive ti.stx)
      if !keep then return arrFold (fun a k => a.push k) kids 0 acc
      let node ← tacticNodeJson ctx ti
      return acc.push (Json.mkObj [("kind", Json.str "TacticInfo"), ("node", node),
        ("children", Json.arr kids)])
    | _, _ => return arrFold (fun a k => a.push k) kids 0 acc
  | .hole _ => return acc
where
  /-- `Array.foldlM`, by hand. -/
  arrFoldIO (xs : Array InfoTree) (i : Nat) (acc : Array Json)
      (f : Array Json → InfoTree → IO (Array Json)) : IO (Array Json) := do
    if h : i < xs.size then arrFoldIO xs (i + 1) (← f acc (xs[i]'h)) f else return acc

/-- What a command request asks for besides its text. -/
structure CmdOptions where
  allTactics : Bool := false
  rootGoals : Bool := false
  infotree : Option String := none
  maxHeartbeats : Option Nat := none

partial def handleCmd (st : IO.Ref State) (cmd : String) (env? : Option Nat) (o : CmdOptions) :
    IO Json := do
  let s ← readSt st
  let some base := envAt s env? | return errorJson unknownEnv
  let r ← elabInput base cmd env?.isNone s.headers s.opts o.maxHeartbeats
  match r with
  | .error e => return errorJson e
  | .ok (fs, newHeader, start) =>
    if let some (key, henv) := newHeader then
      let s ← readSt st
      writeSt st { s with headers := (key, henv) :: s.headers }
    let s ← readSt st
    let envId := s.envs.size
    -- Only the command state is kept: the messages and info trees are answered here.
    writeSt st { s with envs := s.envs.push fs.cmdState }
    let sorries := sorriesOfTrees fs.trees
    let sorryJsons ← filterMapIO (sorryJson st start none none) sorries.toList #[]
    let sorryJsons ← if o.rootGoals then
        let roots := arrFold (fun acc t => rootTactics none t acc) fs.trees 0 #[]
        filterMapIO (rootGoalJson st start) roots.toList sorryJsons
      else pure sorryJsons
    let messages ← messagesJsonAux fs.messages 0 #[]
    let tacticJsons ← if o.allTactics then
        -- leancot's client gets every tactic node; the community protocol its selection, each
        -- with a proof state
        let tactics := arrFold (fun acc t => collectTactics (!s.leancot) none t acc) fs.trees 0 #[]
        if s.leancot then mapIO (fun t => tacticJson t) tactics.toList #[]
        else mapIO (fun t => do tacticJson t (← tacticSnap st start t)) tactics.toList #[]
      else pure #[]
    let fields := listField "messages" messages (listField "sorries" sorryJsons
      (listField "tactics" tacticJsons []))
    let trees ← match o.infotree with
      | some mode =>
        if mode == "tactics" || mode == "original" || mode == "substantive" then
          arrFoldTrees fs.trees 0 #[] fun a t => tacticTreeJson mode none t a
        else if mode == "full" then
          arrFoldTrees fs.trees 0 #[] fun a t => do return a.push (← fullTreeJson none t)
        else pure #[]
      | none => pure #[]
    let fields := if trees.size == 0 then fields else ("infotree", Json.arr trees) :: fields
    return Json.mkObj (("env", toJson envId) :: fields)
where
  arrFoldTrees (xs : Array InfoTree) (i : Nat) (acc : Array Json)
      (f : Array Json → InfoTree → IO (Array Json)) : IO (Array Json) := do
    if h : i < xs.size then arrFoldTrees xs (i + 1) (← f acc (xs[i]'h)) f else return acc

def parseTactic (env : Environment) (tac : String) : Except String Syntax :=
  let inputCtx := Parser.InputContext.mk' tac "<input>" (FileMap.ofString tac) tac.rawEndPos
  let p := Parser.andthenFn Parser.whitespace Parser.Tactic.tacticSeq.fn
  let s := p.run inputCtx { env, options := {} } (Parser.getTokenTable env) (Parser.mkParserState tac)
  if s.hasError then
    .error (s.toErrorMsg inputCtx)
  else if s.pos != tac.rawEndPos then
    .error s!"<input>: unexpected input after the tactic at position {s.pos.byteIdx}"
  else
    .ok s.stxStack.back

/-- The goals not yet assigned, in order: `gs.filterM (not <$> ·.isAssigned)`, by hand. -/
partial def unsolved (gs : List MVarId) (acc : List MVarId) : MetaM (List MVarId) := do
  match gs with
  | [] => return reverseList acc []
  | g :: rest =>
    if ← g.isAssigned then unsolved rest acc else unsolved rest (g :: acc)

/-- The free variables of a local context that are not implementation details, in order. -/
def userFVars (lctx : LocalContext) : Array Expr :=
  paFold (fun acc d? => match d? with
    | some d => if d.isImplementationDetail then acc else acc.push (.fvar d.fvarId)
    | none => acc) lctx.decls #[]

/-- Whether the proof of `root` is complete, as the community REPL reports it: the assembled
term is checked against the goal's type, then by the kernel (as an anonymous definition over
the goal's hypotheses), before `sorry` is looked for. Runs in the goal's local context
(`proofStatus`). -/
def proofStatusHere (root : MVarId) : MetaM String := do
  let pf ← instantiateMVars (Expr.mvar root)
  if pf == .mvar root then return "Error: Goal not assigned"
  do
    let pft ← instantiateMVars (← inferType pf)
    let expected ← instantiateMVars (← root.getType)
    unless ← isDefEq pft expected do
      return s!"Error: proof has type {pft} but root goal has type {expected}"
    let pf ← instantiateMVars pf
    if pf.hasExprMVar then return "Incomplete: contains metavariable(s)"
    let value ← mkLambdaFVars (userFVars (← getLCtx)) pf
    let type ← instantiateMVars (← inferType value)
    let levels := (collectLevelParams (collectLevelParams {} type) value).params.toList
    let decl := Declaration.defnDecl {
      name := .anonymous, type, value, levelParams := levels, hints := .opaque, safety := .safe }
    match (← getEnv).addDeclCore 0 decl none with
    | .error e => return s!"Error: kernel type check failed: {← (e.toMessageData (← getOptions)).toString}"
    | .ok _ =>
      if pf.hasSorry then return "Incomplete: contains sorry"
      return "Completed"

/-- `proofStatusHere` in the local context of `root` (`MVarId.withContext` goes through a
private helper). -/
def proofStatus (root : MVarId) : MetaM String := do
  let some decl := (← getMCtx).findDecl? root | return "Error: Goal not assigned"
  let ctx : Meta.Context := { lctx := decl.lctx, localInstances := decl.localInstances }
  let (status, _) ← (proofStatusHere root).run ctx (← get)
  return status

/-- What one tactic did: the goals left, messages, traces and info trees it produced. -/
structure TacticRun where
  goals : List MVarId
  mctx : MetavarContext
  pp : Array Json
  status : String
  env : Environment
  messages : Array Message
  traces : Array TraceElem
  trees : Array InfoTree

/-- Run a tactic on a proof state as the community REPL does: with error recovery (an error is
a message, its goal is closed with `sorry`), info trees and traces kept; an exception comes back
as its text. -/
def runTacticOn (p : ProofSnap) (stx : Syntax) (tag : Nat) (maxHeartbeats : Nat) :
    IO (Except String TacticRun) := do
  let heartbeats ← IO.getNumHeartbeats
  let coreCtx : Core.Context := {
    fileName := "<input>", fileMap := default, options := p.options,
    currNamespace := p.currNamespace, openDecls := p.openDecls, initHeartbeats := heartbeats,
    maxHeartbeats := maxHeartbeats * 1000 }
  let coreState : Core.State := {
    env := p.env, ngen := { namePrefix := Name.mkNum `_leancot tag, idx := 1 },
    infoState := { enabled := true } }
  let metaRun : MetaM (List MVarId × Array Json × String) := do
    let termM : TermElabM (List MVarId) := do
      let ((), ts) ← (Tactic.evalTactic stx { elaborator := .anonymous }).run { goals := p.goals }
      Term.synthesizeSyntheticMVarsNoPostponing
      return ts.goals
    let gs ← (termM {}).run' ({} : Term.State)
    let gs ← unsolved gs []
    let pp ← ppGoalsAux gs #[]
    let status ← if gs matches [] then proofStatus p.root
      else pure "Incomplete: open goals remain"
    return (gs, pp, status)
  let core : CoreM ((List MVarId × Array Json × String) × MetavarContext) := do
    let (a, ms) ← metaRun.run {} { mctx := p.mctx }
    return (a, ms.mctx)
  match ← (core.run coreCtx coreState).toBaseIO with
  | .ok (((gs, pp, status), mctx), cst) =>
    let run : TacticRun := {
      goals := gs, mctx, pp, status, env := cst.env, messages := logMessages cst.messages,
      traces := paToArray cst.traceState.traces, trees := paToArray cst.infoState.trees }
    return .ok run
  | .error e => return .error (← e.toMessageData.toString)

/-- `ts.mapM (·.msg.toString)`, trimmed, as JSON strings. -/
partial def tracesJson (ts : Array TraceElem) (i : Nat) (acc : Array Json) : IO (Array Json) := do
  if h : i < ts.size then
    tracesJson ts (i + 1) (acc.push (Json.str (trimText (← (ts[i]'h).msg.toString))))
  else return acc

def handleTactic (st : IO.Ref State) (tac : String) (psId : Nat) (maxHeartbeats : Nat) :
    IO Json := do
  let s ← readSt st
  let some p := s.proofs[psId]? | return errorJson "Unknown proof state."
  match parseTactic p.env tac with
  | .error e => return errorJson ("Lean error:\n" ++ e)
  | .ok stx =>
    match ← runTacticOn p stx (s.proofs.size + 1) maxHeartbeats with
    | .error e => return errorJson ("Lean error:\n" ++ e)
    | .ok r =>
      -- the new trees, in the context of the proof state, for the `sorry`s the tactic left
      let cci : CommandContextInfo := {
        env := p.env, fileMap := default, mctx := r.mctx, options := p.options,
        currNamespace := p.currNamespace, openDecls := p.openDecls, ngen := {} }
      let trees := arrFold (fun acc t => acc.push (InfoTree.context (.commandCtx cci) t)) r.trees 0 #[]
      let sorries ← filterMapIO (sorryJson st p.env (some p.root) (some p.mctx))
        (sorriesOfTrees trees).toList #[]
      let snap : ProofSnap := { p with env := r.env, mctx := r.mctx, goals := r.goals }
      let id ← addProof st snap
      let messages ← messagesJsonAux r.messages 0 #[]
      let traces ← tracesJson r.traces 0 #[]
      return Json.mkObj (("proofState", toJson id) :: ("goals", Json.arr r.pp) ::
        ("proofStatus", Json.str r.status) ::
        listField "messages" messages (listField "sorries" sorries (listField "traces" traces [])))

/-! ### Pickling (`pickleTo`, `unpickleEnvFrom`, `unpickleProofStateFrom`)

As the community REPL does, an environment is written relative to its imports: the import list,
the constants it adds (`constants.map₂`) and its scopes (namespaces, `open`s, options), with
`saveModuleData` (an object written as an .olean file); reading it imports the modules again and
replays the constants through the kernel (`Environment.replay`). A proof state adds its
metavariable context, goals and root. The file's memory stays mapped while the process lives. -/

/-- What a pickled environment holds. -/
structure PickledEnv where
  imports : Array Import
  constants : Array ConstantInfo
  scopes : List Command.Scope

/-- What a pickled proof state holds. -/
structure PickledProof where
  env : PickledEnv
  mctx : MetavarContext
  root : MVarId
  goals : List MVarId
  options : Options
  currNamespace : Name
  openDecls : List OpenDecl

unsafe def saveObjectUnsafe {α : Type} (path : System.FilePath) (x : α) : IO Unit :=
  saveModuleData path `_leancot_pickle (unsafeCast x)

/-- Write `x` to `path` as an .olean file (`saveModuleData` of the object). -/
@[implemented_by saveObjectUnsafe]
opaque saveObject {α : Type} (path : System.FilePath) (x : α) : IO Unit

unsafe def readObjectUnsafe (α : Type) [Inhabited α] (path : System.FilePath) : IO α := do
  let (x, _region) ← readModuleData path
  return unsafeCast x

/-- Read back what `saveObject` wrote (the caller names the type it was written with). -/
@[implemented_by readObjectUnsafe]
opaque readObject (α : Type) [Inhabited α] (path : System.FilePath) : IO α

instance : Inhabited PickledEnv := ⟨{ imports := #[], constants := #[], scopes := [] }⟩
instance : Inhabited PickledProof :=
  ⟨{ env := default, mctx := {}, root := { name := .anonymous }, goals := [], options := {},
     currNamespace := .anonymous, openDecls := [] }⟩

/-- `List.find?` of a constant by name in `cs`. -/
def findConst (cs : Array ConstantInfo) (n : Name) : Option ConstantInfo :=
  arrFold (fun acc c => match acc with
    | some _ => acc
    | none => if c.name == n then some c else none) cs 0 none

/-- The inductive types `names` of a block as the kernel takes them, from `cs`. -/
partial def inductiveBlock (cs : Array ConstantInfo) : List Name → Option (List InductiveType)
  | [] => some []
  | n :: rest => do
    let .inductInfo v ← findConst cs n | none
    let ctors ← ctorsOf v.ctors
    let more ← inductiveBlock cs rest
    return { name := n, type := v.type, ctors } :: more
where
  ctorsOf : List Name → Option (List Constructor)
    | [] => some []
    | c :: rest => do
      let .ctorInfo v ← findConst cs c | none
      return { name := c, type := v.type } :: (← ctorsOf rest)

/-- The declaration that adds `c` (an inductive block adds its constructors and recursors; those
have none of their own). -/
def declOf (cs : Array ConstantInfo) (c : ConstantInfo) : Option Declaration :=
  match c with
  | .thmInfo v => some (.thmDecl v)
  | .defnInfo v => some (if v.safety == .safe then .defnDecl v else .mutualDefnDecl [v])
  | .opaqueInfo v => some (.opaqueDecl v)
  | .axiomInfo v => some (.axiomDecl v)
  | .inductInfo v =>
    if (match v.all with
        | n :: _ => n == v.name
        | [] => false) then
      (inductiveBlock cs v.all).map fun ts => .inductDecl v.levelParams v.numParams ts v.isUnsafe
    else none
  | _ => none

/-- Add `decls` to `env` through the kernel, in passes until each is added (a declaration whose
dependencies are not there yet waits for the next pass); the first error when a pass adds
nothing. -/
partial def addInPasses (env : Environment) (decls : List Declaration) : IO Environment := do
  let (env, failed, firstError) := pass env decls [] none
  match failed, firstError with
  | [], _ => return env
  | _, some e =>
    if listLength failed < listLength decls then addInPasses env (reverseList failed [])
    else throw (IO.userError s!"the pickled constants do not check: {← (e.toMessageData {}).toString}")
  | _, none => return env
where
  pass (env : Environment) : List Declaration → List Declaration → Option Kernel.Exception →
      Environment × List Declaration × Option Kernel.Exception
    | [], failed, err => (env, failed, err)
    | d :: rest, failed, err => match env.addDeclCore 0 d none with
      | .ok env => pass env rest failed err
      | .error e => pass env rest (d :: failed) (err.getD e |> some)

def pickledEnv (env : Environment) (scopes : List Command.Scope) : PickledEnv :=
  let cs := phmNodeFold (fun acc _ c => acc.push c) env.constants.map₂.root #[]
  { imports := env.header.imports, constants := cs, scopes }

/-- `open ns` for every namespace that `opens` opens, one a line (elaborating them activates
their scoped extensions, such as notation). -/
def reopenText : List OpenDecl → String
  | [] => ""
  | .simple ns _ :: rest => "open " ++ escapedText ns ++ "\n" ++ reopenText rest
  | _ :: rest => reopenText rest

/-- The environment of a pickle: its imports (from the header cache when they were imported
before), then its constants checked again by the kernel, then its `open` namespaces' scoped
extensions activated. -/
def unpickledEnv (st : IO.Ref State) (p : PickledEnv) : IO Command.State := do
  let s ← readSt st
  let key := importsKey p.imports
  let header ← match lookupHeader s.headers key with
    | some h => pure h
    | none =>
      let env ← importModules p.imports s.opts (loadExts := true)
      let h := Command.mkState env {} s.opts
      writeSt st { s with headers := (key, h) :: s.headers }
      pure h
  let decls := arrFold (fun acc c => match declOf p.constants c with
    | some d => d :: acc
    | none => acc) p.constants 0 []
  let env ← addInPasses header.env decls
  let scopes := match p.scopes with
    | [] => header.scopes
    | sc => sc
  let opens := match scopes with
    | sc :: _ => sc.openDecls
    | [] => []
  let text := reopenText opens
  let env ← if text.isEmpty then pure env else do
    let inputCtx := Parser.InputContext.mk' text "<unpickle>" (FileMap.ofString text) text.rawEndPos
    let r ← elabCommands inputCtx {} { header with env } #[] #[]
    pure r.cmdState.env
  return { header with env, scopes }

/-- A proof state's reply (`proofState`, `goals`, `proofStatus`), recording it as a new one. -/
def snapReply (st : IO.Ref State) (p : ProofSnap) : IO Json := do
  let r ← runMetaIn p.env p.mctx p.options p.currNamespace p.openDecls 0 do
    let gs ← unsolved p.goals []
    let pp ← ppGoalsAux gs #[]
    let status ← if gs matches [] then proofStatus p.root
      else pure "Incomplete: open goals remain"
    return (pp, status)
  match r with
  | .error e => return errorJson ("Lean error:\n" ++ e)
  | .ok ((pp, status), _) =>
    let id ← addProof st p
    return Json.mkObj [("proofState", toJson id), ("goals", Json.arr pp),
      ("proofStatus", Json.str status)]

def handlePickle (st : IO.Ref State) (req : Json) : IO Json := do
  let s ← readSt st
  let str (k : String) : Option String := (req.getObjValAs? String k).toOption
  let num (k : String) : Option Nat := (req.getObjValAs? Nat k).toOption
  try
    match str "pickleTo", str "unpickleEnvFrom", str "unpickleProofStateFrom" with
    | some path, _, _ =>
      match num "proofState", num "env" with
      | some i, _ =>
        let some p := s.proofs[i]? | return errorJson "Unknown proof State."
        let pickled : PickledProof := {
          env := pickledEnv p.env [], mctx := p.mctx, root := p.root, goals := p.goals,
          options := p.options, currNamespace := p.currNamespace, openDecls := p.openDecls }
        saveObject path pickled
        snapReply st p
      | none, some i =>
        let some cs := s.envs[i]? | return errorJson unknownEnv
        saveObject path (pickledEnv cs.env cs.scopes)
        return Json.mkObj [("env", toJson i)]
      | none, none => return errorJson "\"pickleTo\" needs \"env\" or \"proofState\""
    | none, some path, _ =>
      let cs ← unpickledEnv st (← readObject PickledEnv path)
      let s ← readSt st
      writeSt st { s with envs := s.envs.push cs }
      return Json.mkObj [("env", toJson s.envs.size)]
    | none, none, some path =>
      let given ← match num "env" with
        | some i => match s.envs[i]? with
          | some cs => pure (some cs)
          | none => return errorJson unknownEnv
        | none => pure none
      let p ← readObject PickledProof path
      let env ← match given with
        | some cs => pure cs.env
        | none => pure (← unpickledEnv st p.env).env
      let snap : ProofSnap := {
        env, mctx := p.mctx, root := p.root, goals := p.goals, options := p.options,
        currNamespace := p.currNamespace, openDecls := p.openDecls }
      snapReply st snap
    | none, none, none => return errorJson "not a pickling request"
  catch e => return errorJson (toString e)

/-- An optional field: absent or `null` is `none`; anything else must have the right type. -/
def optionalField [FromJson α] (req : Json) (key : String) : Except String (Option α) :=
  match req.getObjVal? key with
  | .error _ => .ok none
  | .ok Json.null => .ok none
  | .ok v => match fromJson? v with
    | .ok a => .ok (some a)
    | .error e => .error e

def verifyRequest (st : IO.Ref State) (req : Json) (text : String) : IO Json := do
  let mode ← match optionalField (α := String) req "mode" with
    | .ok none | .ok (some "theorem") => pure CheckMode.theorem
    | .ok (some "file") => pure CheckMode.file
    | .ok (some m) => return errorJson s!"\"mode\" must be \"theorem\" or \"file\", not {m}"
    | .error e => return errorJson s!"\"mode\" must be a string: {e}"
  match optionalField (α := String) req "reference", optionalField (α := Nat) req "env",
      optionalField (α := Nat) req "maxHeartbeats", optionalField (α := Nat) req "maxRecDepth",
      optionalField (α := Bool) req "allowNativeDecide" with
  | .ok ref?, .ok env?, .ok hb?, .ok depth?, .ok native? =>
    if mode == .theorem && ref?.isNone then
      return errorJson "a theorem check needs \"reference\": the statement with `:= sorry`"
    let lim : Limits := ⟨mode, hb?.getD 1000000, depth?.getD 10000, native?.getD false, false⟩
    handleVerify st text ref? env? lim
  | _, _, _, _, _ => return errorJson "\"verify\" requests take \"reference\" (string), \"env\", \"maxHeartbeats\", \"maxRecDepth\" (numbers) and \"allowNativeDecide\" (boolean)"

/-! ### Library constants (`"constants"` requests, for leancot/prover/core_suite.py)

The constants the imported modules declare, for benchmarks made of the library's own statements.
Modules are filtered by their first name component (`Init`, `Std`, …) and constants by kind
(this build ships theorems without proofs: they are axioms here). -/

def kindText : ConstantInfo → String
  | .axiomInfo _ => "axiom"
  | .defnInfo _ => "definition"
  | .thmInfo _ => "theorem"
  | .opaqueInfo _ => "opaque"
  | .quotInfo _ => "quot"
  | .inductInfo _ => "inductive"
  | .ctorInfo _ => "constructor"
  | .recInfo _ => "recursor"

/-- The first component of a module name (`Init` for `Init.Data.List.Basic`). -/
def rootOf : Name → String
  | .str .anonymous s => s
  | .str p _ => rootOf p
  | .num p _ => rootOf p
  | .anonymous => ""

def memString (x : String) : List String → Bool
  | [] => false
  | y :: ys => x == y || memString x ys

/-- The level parameter names as JSON strings (replaces `List.map`: a specialised helper). -/
def levelNamesJson : List Name → Array Json → Array Json
  | [], acc => acc
  | n :: ns, acc => levelNamesJson ns (acc.push (Json.str (nameText n)))

def constantJson (m : Name) (c : ConstantInfo) : Json :=
  Json.mkObj [("name", Json.str (nameSource c.name)), ("kind", Json.str (kindText c)),
    ("module", Json.str (nameText m)), ("levels", Json.arr (levelNamesJson c.levelParams #[]))]

/-- The constants of kind in `kinds` declared by modules whose root is in `roots`, module order. -/
partial def moduleConstants (names : Array Name) (data : Array ModuleData) (roots kinds : List String)
    (i : Nat) (acc : Array Json) : Array Json :=
  if h : i < names.size then
    let m := names[i]'h
    let acc := match data[i]? with
      | some d =>
        if memString (rootOf m) roots then
          arrFold (fun acc (c : ConstantInfo) =>
            if memString (kindText c) kinds then acc.push (constantJson m c) else acc)
            d.constants 0 acc
        else acc
      | none => acc
    moduleConstants names data roots kinds (i + 1) acc
  else acc

def handleConstants (st : IO.Ref State) (envId : Option Nat) (roots kinds : List String) :
    IO Json := do
  let s ← readSt st
  let some cs := envAt s envId | return errorJson unknownEnv
  let header := cs.env.header
  let found := moduleConstants header.moduleNames header.moduleData roots kinds 0 #[]
  return Json.mkObj [("constants", Json.arr found)]

/-- A list of strings from a JSON array field (`none`: absent; replaces `fromJson?`, whose array
instance is a specialised helper); `.error` when it is not an array of strings. -/
def stringsField (req : Json) (key : String) : Except String (Option (List String)) :=
  match req.getObjVal? key with
  | .error _ => .ok none
  | .ok (Json.arr xs) =>
    let found : Except String (List String) := arrFold (fun acc (x : Json) => match acc, x with
      | .ok l, Json.str s => .ok (s :: l)
      | .ok _, _ => .error s!"\"{key}\" must be a list of strings"
      | e, _ => e) xs 0 (Except.ok [])
    match found with
    | .ok l => .ok (some (reverseList l []))
    | .error e => .error e
  | .ok _ => .error s!"\"{key}\" must be a list of strings"

def constantsRequest (st : IO.Ref State) (req : Json) : IO Json := do
  match stringsField req "roots", stringsField req "kinds", optionalField (α := Nat) req "env" with
  | .ok roots?, .ok kinds?, .ok env? =>
    handleConstants st env? (roots?.getD ["Init"]) (kinds?.getD ["theorem"])
  | .error e, _, _ | _, .error e, _ => return errorJson e
  | _, _, .error e => return errorJson s!"\"env\" must be a natural number: {e}"

/-! ### Premise locations (`"premises"` requests, for leancot/extract/premises.py)

Self-contained: the extractor's premise annotation and its corpus of library files.

  {"premises": "<file text>", "env": n?, "allTactics": b?}
    → {"identifiers": [{"name", "pos", "endPos", "binder", "module", "kind", "cmdPos", "cmdEndPos"}],
       "messages": [..], "tactics": [..]?}
  {"premises": "", "modules": ["Init.Prelude", ...], "keep": [names]?, "env": n?}
    → {"modules": [{"name", "imports": [..], "declarations": [{"name", "kind", "signature"}]}],
       "graph": [{"name", "imports": [..]}]}

The first elaborates the text as a `cmd` without an `env` does (its own imports; only a new
header's environment is kept, as `cmd` keeps it), answers its messages, with `allTactics` its
tactics as a `cmd` with `allTactics` lists them, with the fields the extractor reads
(`tacticJson` with `extractor`: no `tactic`, `goals`, `usedConstants`), so the extractor
elaborates each file once, and
reports every identifier written in the text (canonical source positions only, not
macro-made ones) that elaborated to a global constant, from the info trees: `binder` marks the
name of a declaration being declared, `module` is the imported module declaring the constant
(null: the text itself), `cmdPos`/`cmdEndPos` the span of the top-level command it stands in.
The second lists, per imported module, its imports and its constants in declaration order with
their signatures, skipping names with a `_`-prefixed component (private and auxiliary) and the
declarations Lean generates (`isAuxName`), except those named in `keep` (unescaped, as `nameText`
prints them); `graph` lists the direct imports of every module of the environment. This
build's library .olean files carry no declaration ranges (`declRangeExt` has no entries in any
shipped module), so positions of library constants are not asked for. -/

/-- Whether some component of `n` starts with `_` (private names, auxiliary definitions). -/
def hasHiddenPart : Name → Bool
  | .str p s => (match s.toList with
      | c :: _ => c == '_'
      | [] => false) || hasHiddenPart p
  | .num p _ => hasHiddenPart p
  | .anonymous => false

/-- The last components Lean generates for a declaration (recursors, `noConfusion`, injectivity,
equation lemmas, `match_`/`proof_` auxiliaries): not declarations a person wrote. -/
def auxSuffixes : List String :=
  ["rec", "recOn", "casesOn", "below", "brecOn", "binductionOn", "ibelow", "noConfusion",
   "noConfusionType", "ctorElim", "ctorElimType", "ctorIdx", "injEq", "inj", "sizeOf_spec",
   "eq_def"]

/-- `cs` is the characters `pre` followed by one or more digits (`eq_1`, `match_2`). -/
def numbered : List Char → List Char → Bool
  | [], [] => false
  | [], cs => allDigits cs
  | _, [] => false
  | p :: ps, c :: cs => p == c && numbered ps cs
where
  allDigits : List Char → Bool
    | [] => true
    | c :: cs => c.isDigit && allDigits cs

def isAuxName : Name → Bool
  | .str _ s => memString s auxSuffixes || numbered "eq_".toList s.toList ||
      numbered "match_".toList s.toList || numbered "proof_".toList s.toList
  | _ => true

def moduleNameOf (env : Environment) (n : Name) : Json :=
  match env.getModuleIdxFor? n with
  | some i => match env.header.moduleNames[i.toNat]? with
    | some m => Json.str (nameText m)
    | none => Json.null
  | none => Json.null

/-- The identifiers of one command's info tree that name constants, as JSON objects. -/
partial def premiseIdents (env : Environment) (fm : FileMap) (cmd : Json × Json) (t : InfoTree)
    (acc : Array Json) : Array Json :=
  match t with
  | .context _ t => premiseIdents env fm cmd t acc
  | .node info children =>
    let acc := match info with
      | .ofTermInfo ti =>
        -- a declared name is an identifier, or (inductives, structures) its `declId`
        let named := ti.stx.isIdent || (ti.isBinder && ti.stx.getKind == ``Lean.Parser.Command.declId)
        match named, ti.expr.getAppFn, ti.stx.getPos? true, ti.stx.getTailPos? true with
        | true, .const n _, some p, some e =>
          let kind := match env.find? n with
            | some ci => Json.str (kindText ci)
            | none => Json.null
          acc.push (Json.mkObj [("name", Json.str (nameSource n)), ("pos", posJson (fm.toPosition p)),
            ("endPos", posJson (fm.toPosition e)), ("binder", Json.bool ti.isBinder),
            ("module", moduleNameOf env n), ("kind", kind), ("cmdPos", cmd.1), ("cmdEndPos", cmd.2)])
        | _, _, _, _ => acc
      | _ => acc
    paFold (fun acc c => premiseIdents env fm cmd c acc) children acc
  | .hole _ => acc

/-- The syntax of the outermost command of an info tree, if it has one. -/
partial def commandStx? : InfoTree → Option Syntax
  | .context _ t => commandStx? t
  | .node (.ofCommandInfo ci) _ => some ci.stx
  | _ => none

def premiseIdentifiers (st : IO.Ref State) (text : String) (env? : Option Nat) (allTactics : Bool) :
    IO Json := do
  let s ← readSt st
  let some base := envAt s env? | return errorJson unknownEnv
  match ← elabInput base text env?.isNone s.headers s.opts none with
  | .error e => return errorJson e
  | .ok (fs, newHeader, _) =>
    if let some (key, henv) := newHeader then
      let s ← readSt st
      writeSt st { s with headers := (key, henv) :: s.headers }
    let fm := FileMap.ofString text
    let env := fs.cmdState.env
    let found := arrFold (fun acc t =>
      let cmd := match commandStx? t with
        | some stx => match stx.getPos?, stx.getTailPos? with
          | some p, some e => (posJson (fm.toPosition p), posJson (fm.toPosition e))
          | _, _ => (Json.null, Json.null)
        | none => (Json.null, Json.null)
      premiseIdents env fm cmd t acc) fs.trees 0 #[]
    let messages ← messagesJson fs.messages
    if allTactics then  -- the extractor's one elaboration of a file: its tactics too
      let tactics := arrFold (fun acc t => collectTactics false none t acc) fs.trees 0 #[]
      let tacticJsons ← mapIO (fun t => tacticJson t none true) tactics.toList #[]
      return Json.mkObj [("identifiers", Json.arr found), ("messages", messages),
        ("tactics", Json.arr tacticJsons)]
    return Json.mkObj [("identifiers", Json.arr found), ("messages", messages)]

/-- `name : type` of the constants `names` from index `i`, pretty-printed (a `mapM` by hand). -/
partial def signaturesAux (names : Array Name) (keep : List String) (i : Nat) (acc : Array Json) :
    MetaM (Array Json) := do
  if h : i < names.size then
    let n := names[i]'h
    let hidden := (hasHiddenPart n || isAuxName n) && !memString (nameText n) keep
    let acc ← if hidden then pure acc else
      match (← getEnv).find? n with
      | some ci =>
        let ty ← ppExpr ci.type
        pure (acc.push (Json.mkObj [("name", Json.str (nameSource n)), ("kind", Json.str (kindText ci)),
          ("signature", Json.str (nameSource n ++ " : " ++ toString ty))]))
      | none => pure acc
    signaturesAux names keep (i + 1) acc
  else return acc

def moduleIndex (names : Array Name) (key : String) : Option Nat :=
  (arrFold (fun (acc : Nat × Option Nat) m =>
    (acc.1 + 1, if acc.2.isNone && nameText m == key then some acc.1 else acc.2)) names 0 (0, none)).2

def premiseModules (st : IO.Ref State) (mods keep : List String) (envId : Option Nat) :
    IO Json := do
  let s ← readSt st
  let some cs := envAt s envId | return errorJson unknownEnv
  let env := cs.env
  let header := env.header
  let rec go : List String → Array Json → IO (Except String (Array Json))
    | [], acc => return .ok acc
    | m :: rest, acc => do
      match moduleIndex header.moduleNames m with
      | none => return .error s!"module {m} is not imported in the environment"
      | some i => match header.moduleData[i]? with
        | none => return .error s!"no data for module {m}"
        | some d =>
          let imports := arrFold (fun a (imp : Import) => a.push (Json.str (nameText imp.module)))
            d.imports 0 #[]
          match ← runMetaIn env {} baseOptions .anonymous [] 0 (signaturesAux d.constNames keep 0 #[]) with
          | .error e => return .error s!"{m}: {e}"
          | .ok (decls, _) =>
            go rest (acc.push (Json.mkObj [("name", Json.str m), ("imports", Json.arr imports),
              ("declarations", Json.arr decls)]))
  let importsJson (d : ModuleData) : Json :=
    Json.arr (arrFold (fun a (imp : Import) => a.push (Json.str (nameText imp.module))) d.imports 0 #[])
  let graph := (arrFold (fun (acc : Nat × Array Json) m =>
    let entry := match header.moduleData[acc.1]? with
      | some d => #[Json.mkObj [("name", Json.str (nameText m)), ("imports", importsJson d)]]
      | none => #[]
    (acc.1 + 1, arrAppend acc.2 entry)) header.moduleNames 0 (0, #[])).2
  match ← go mods #[] with
  | .ok found => return Json.mkObj [("modules", Json.arr found), ("graph", Json.arr graph)]
  | .error e => return errorJson e

def premisesRequest (st : IO.Ref State) (req : Json) (text : String) : IO Json := do
  match stringsField req "modules", stringsField req "keep", optionalField (α := Nat) req "env" with
  | .ok (some mods), .ok keep?, .ok env? => premiseModules st mods (keep?.getD []) env?
  | .ok none, _, .ok env? =>
    let allTactics := match optionalField (α := Bool) req "allTactics" with
      | .ok (some b) => b
      | _ => false
    premiseIdentifiers st text env? allTactics
  | .error e, _, _ | _, .error e, _ => return errorJson e
  | _, _, .error e => return errorJson s!"\"env\" must be a natural number: {e}"

/-! ### End of premise locations -/

/-! ## Building a module (`"buildModule"` requests, for leancot/extract/build.py)

  {"buildModule": "<path of a .lean file>", "module": ["Foo", "A"], "olean": "<path>"}
    → {"olean": "<path>", "messages": [..]}, or without "olean" when the file has errors

Elaborates the file in its own imports as `Foo.A` (the main module names its private and
auxiliary declarations) and writes the module's .olean, so that a later file can `import Foo.A`
with the directory on `LEAN_PATH`. The file is written unsplit (`saveModuleData` of
`mkModuleData` at the private level): this WASM build imports only the exported part, the
`.olean` file of a split module, and a split `lean -o` of a non-`module` file puts none of its
declarations there (tried: `import Foo.A` then `Unknown identifier` for each of them). A header
imported here is kept, as a `cmd` keeps it.

With `"image": true` the .olean is the REPL's own image (leancot/lean/image.py): its data is marked
as a `module`'s, which this build's `lean` requires of every import (it treats each file it runs as
a `module`), and the compiler's specialisation cache is left out: a file importing the image reuses
a cached specialisation by name (`Option.get._at_.….spec_0`), and names the image does not export
(not constants, so `getModuleIdxFor?` does not find them) cannot be compiled against. The runner
that imports it (`LeanCot/ReplImage.lean`) installs the image's compiled code before running it. -/

/-- A name from its components, first component first (a `List.foldl Name.str` by hand). -/
def nameOfParts : Name → List String → Name
  | n, [] => n
  | n, s :: rest => nameOfParts (Name.str n s) rest

/-- `entries` with the specialisation cache's emptied (an `Array.map` by hand). -/
partial def withoutSpecCache (es : Array (Name × Array EnvExtensionEntry)) (i : Nat)
    (acc : Array (Name × Array EnvExtensionEntry)) : Array (Name × Array EnvExtensionEntry) :=
  if h : i < es.size then
    let e := es[i]'h
    let e := if e.1 == `Lean.Compiler.LCNF.Specialize.specCacheExt then (e.1, #[]) else e
    withoutSpecCache es (i + 1) (acc.push e)
  else acc

def buildModule (st : IO.Ref State) (path : String) (mod : Name) (olean : String)
    (image : Bool := false) : IO Json := do
  let text ← try IO.FS.readFile path catch e => return errorJson s!"{path}: {e}"
  let inputCtx := Parser.InputContext.mk' text path (FileMap.ofString text) text.rawEndPos
  let (header, parserState, msgs) ← Parser.parseHeader inputCtx
  if hasErrors msgs then
    return Json.mkObj [("messages", ← messagesJson (logMessages msgs))]
  let imports := headerToImports header
  let key := importsKey imports
  let s ← readSt st
  let env ← match lookupHeader s.headers key with
    | some cs => pure cs.env
    | none =>
      let env ← importModules imports s.opts (loadExts := true)
      writeSt st { s with headers := (key, Command.mkState env {} s.opts) :: s.headers }
      pure env
  let fs ← elabCommands inputCtx parserState (Command.mkState (env.setMainModule mod) {} s.opts)
    (logMessages msgs) #[]
  let messages ← messagesJson fs.messages
  if arrFold (fun b (m : Message) => b || m.severity == .error) fs.messages 0 false then
    return Json.mkObj [("messages", messages)]
  let data ← mkModuleData fs.cmdState.env
  let data := if image then
      { data with isModule := true, entries := withoutSpecCache data.entries 0 #[] }
    else data
  saveModuleData olean mod data
  return Json.mkObj [("olean", Json.str olean), ("messages", messages)]

def buildRequest (st : IO.Ref State) (req : Json) (path : String) : IO Json := do
  let image := match optionalField (α := Bool) req "image" with
    | .ok (some b) => b
    | _ => false
  match stringsField req "module", req.getObjValAs? String "olean" with
  | .ok (some parts@(_ :: _)), .ok olean =>
    try buildModule st path (nameOfParts .anonymous parts) olean image
    catch e => return errorJson s!"building {path}: {e}"
  | .error e, _ => return errorJson e
  | _, .error _ => return errorJson "\"buildModule\" needs \"olean\", the path to write"
  | .ok _, _ => return errorJson "\"buildModule\" needs \"module\", its name's components"

/-! (end of the section on building modules) -/

/-! ## Freeing handles (`"forget"` requests): the process layer's section (leancot/lean/supervisor.py)

  {"forget": {"envs": [n, ...]?, "proofStates": [n, ...]?}}  → {"forgotten": {"envs": k, "proofStates": m}}

Handles are positions in the state's arrays, so a freed entry is replaced by a tombstone that holds
nothing of its own (the base environment, an empty metavariable context) and the memory of what it
held can be reused. A later request naming a freed handle gets an error (`forgetDispatch`, called
first by `handle`). The base environment and the imported header environments have no handle
and are never freed. Unknown or already freed handles are skipped. -/

def forgottenTag : String := "«leancot: freed»"

def forgottenName : Name := `_leancot_freed

def envForgotten (cs : Command.State) : Bool :=
  match cs.scopes with
  | s :: _ => s.header == forgottenTag
  | [] => false

def proofForgotten (p : ProofSnap) : Bool := p.currNamespace == forgottenName

/-- A list of natural numbers from a JSON array field (`fromJson?` of arrays is a specialised
helper); absent or `null` is empty. -/
def natsField (spec : Json) (key : String) : Except String (List Nat) :=
  match spec.getObjVal? key with
  | .error _ | .ok Json.null => .ok []
  | .ok (Json.arr xs) =>
    arrFold (fun acc (x : Json) => match acc, (fromJson? x : Except String Nat) with
      | .ok l, .ok n => .ok (n :: l)
      | .ok _, .error _ => .error s!"\"{key}\" must be a list of natural numbers"
      | e, _ => e) xs 0 (Except.ok [])
  | .ok _ => .error s!"\"{key}\" must be a list of natural numbers"

/-- Tombstone the environments `ids` (those not already freed); how many were freed. -/
def freeEnvs (base : Command.State) : List Nat → Array Command.State → Nat → Array Command.State × Nat
  | [], envs, n => (envs, n)
  | i :: rest, envs, n =>
    match envs[i]? with
    | some cs =>
      if envForgotten cs then freeEnvs base rest envs n
      else freeEnvs base rest (envs.set! i { base with scopes := [{ header := forgottenTag }] }) (n + 1)
    | none => freeEnvs base rest envs n

/-- Tombstone the proof states `ids` (unknown or already freed ones are skipped). -/
def freeProofs (env : Environment) : List Nat → Array ProofSnap → Nat → Array ProofSnap × Nat
  | [], ps, n => (ps, n)
  | i :: rest, ps, n =>
    match ps[i]? with
    | some p =>
      if proofForgotten p then freeProofs env rest ps n
      else
        let dead : ProofSnap := { p with
          env := env, mctx := {}, goals := [], options := {}, currNamespace := forgottenName,
          openDecls := [] }
        freeProofs env rest (ps.set! i dead) (n + 1)
    | none => freeProofs env rest ps n

def handleForget (st : IO.Ref State) (spec : Json) : IO Json := do
  match natsField spec "envs", natsField spec "proofStates" with
  | .ok envIds, .ok proofIds =>
    let s ← readSt st
    let (envs, ne) := freeEnvs s.base envIds s.envs 0
    let (proofs, np) := freeProofs s.base.env proofIds s.proofs 0
    writeSt st { s with envs, proofs }
    return Json.mkObj [("forgotten", Json.mkObj [("envs", toJson ne), ("proofStates", toJson np)])]
  | .error e, _ | _, .error e => return errorJson e

/-- A `forget` request's reply, or an error for a request that names a freed handle; `none`: not
this section's business. -/
def forgetDispatch (st : IO.Ref State) (req : Json) : IO (Option Json) := do
  if let .ok spec := req.getObjVal? "forget" then
    return some (← handleForget st spec)
  let s ← readSt st
  if let .ok (some i) := optionalField (α := Nat) req "env" then
    if let some cs := s.envs[i]? then
      if envForgotten cs then
        return some (errorJson s!"environment {i} was freed by a \"forget\" request")
  if let .ok (some i) := optionalField (α := Nat) req "proofState" then
    if let some p := s.proofs[i]? then
      if proofForgotten p then
        return some (errorJson s!"proof state {i} was freed by a \"forget\" request")
  return none

/-! (end of the section on freeing handles) -/

def handle (st : IO.Ref State) (req : Json) : IO Json := do
  if let some r ← forgetDispatch st req then return r
  if let .ok text := req.getObjValAs? String "premises" then return ← premisesRequest st req text
  if let .ok path := req.getObjValAs? String "buildModule" then return ← buildRequest st req path
  if (req.getObjVal? "constants").toOption.isSome then
    return ← constantsRequest st req
  if let .ok text := req.getObjValAs? String "verify" then
    return ← verifyRequest st req text
  -- the heartbeat limit of a command or tactic, in thousands (0: none), as `set_option` takes it
  let hb? ← match optionalField (α := Nat) req "maxHeartbeats" with
    | .ok hb? => pure hb?
    | .error e => return errorJson s!"\"maxHeartbeats\" must be a natural number: {e}"
  if isSome req "pickleTo" || isSome req "unpickleEnvFrom" || isSome req "unpickleProofStateFrom" then
    return ← handlePickle st req
  -- a command, or a file (`"path"`) read as one
  let cmd? ← match req.getObjValAs? String "cmd", req.getObjValAs? String "path" with
    | .ok cmd, _ => pure (some cmd)
    | _, .ok path =>
      try pure (some (← IO.FS.readFile path))
      catch e => return errorJson (toString e)
    | _, _ => pure none
  match cmd? with
  | some cmd =>
    match optionalField (α := Nat) req "env", optionalField (α := Bool) req "allTactics",
        optionalField (α := Bool) req "rootGoals" with
    | .ok env?, .ok allTactics?, .ok rootGoals? =>
      let o : CmdOptions := {
        allTactics := allTactics?.getD false, rootGoals := rootGoals?.getD false,
        infotree := (optionalField (α := String) req "infotree").toOption.join,
        maxHeartbeats := hb? }
      handleCmd st cmd env? o
    | .error e, _, _ => return errorJson s!"\"env\" must be a natural number: {e}"
    | _, .error e, _ => return errorJson s!"\"allTactics\" must be a boolean: {e}"
    | _, _, .error e => return errorJson s!"\"rootGoals\" must be a boolean: {e}"
  | none =>
  match req.getObjValAs? String "tactic", req.getObjValAs? Nat "proofState" with
  | .ok tac, .ok ps => handleTactic st tac ps (hb?.getD defaultMaxHeartbeats)
  | _, _ => return errorJson "Could not parse as a valid JSON command: a request has \"cmd\" or \"path\" (and optional \"env\"), or \"tactic\" and \"proofState\""
where
  isSome (req : Json) (key : String) : Bool := (req.getObjVal? key).toOption.isSome

/-- The bytes from `i` on are ASCII blanks: `String.all Char.isWhitespace` on the UTF-8 bytes
(`String.all` and `String.trim` go through private `String.Slice` helpers). -/
partial def blankFrom (b : ByteArray) (i : Nat) : Bool :=
  if i < b.size then
    let c := b.get! i
    (c == 32 || c == 9 || c == 10 || c == 13) && blankFrom b (i + 1)
  else true

def isBlank (s : String) : Bool := blankFrom s.toUTF8 0

/-- Read lines up to a blank line, joined as the community REPL joins them (each without its
trailing blanks, so a raw line break inside a JSON string disappears); `none` at end of input. -/
partial def readRequest (h : IO.FS.Handle) (acc : String) : IO (Option String) := do
  let line ← h.getLine
  if line.isEmpty then
    if isBlank acc then return none else return some acc
  else if isBlank line then
    if isBlank acc then readRequest h "" else return some acc
  else readRequest h (acc ++ trimEnd line)
where
  /-- `String.trimAsciiEnd`, by bytes. -/
  trimEnd (s : String) : String :=
    let b := s.toUTF8
    let rec stop (j : Nat) (fuel : Nat) : Nat :=
      match fuel with
      | 0 => j
      | f + 1 =>
        let c := if j > 0 then b.get! (j - 1) else 0
        if j > 0 && (c == 32 || c == 9 || c == 10 || c == 13) then stop (j - 1) f else j
    let j := stop b.size b.size
    if j == b.size then s else String.fromUTF8! (b.extract 0 j)

/-- A comment line (`#` or `--` first), which the community REPL skips. -/
def isComment (s : String) : Bool :=
  let b := s.toUTF8
  b.size > 0 && (b.get! 0 == 35 || (b.size > 1 && b.get! 0 == 45 && b.get! 1 == 45))

/-- One reply: for leancot's client one line after the marker; in the community protocol the
bare JSON object and a blank line. -/
def reply (leancot : Bool) (out : IO.FS.Handle) (j : Json) : IO Unit := do
  if leancot then out.putStrLn (marker ++ j.compress)
  else out.putStr (j.compress ++ "\n\n")
  out.flush

partial def loop (st : IO.Ref State) (inp out : IO.FS.Handle) : IO Unit := do
  match ← readRequest inp "" with
  | none => return
  | some text =>
    if isComment text then return ← loop st inp out
    let resp ← match Json.parse text with
      | .error e => pure (errorJson s!"Could not parse JSON:\n{e}")
      | .ok req =>
        let resp ← try handle st req catch e => pure (errorJson s!"internal error: {e}")
        -- a reply carries the request's nonce, which the checked text cannot know: lines the
        -- text prints itself cannot pass for replies
        match req.getObjVal? "nonce", resp with
        | .ok n, .obj _ => pure (resp.setObjVal! "nonce" n)
        | _, _ => pure resp
    reply (← readSt st).leancot out resp
    loop st inp out

/-- Serve requests from stdin until it ends, in leancot's protocol (`leancot`) or the community
REPL's. Opens `/dev/stdin` and `/dev/stdout` itself: under `#eval` the standard streams are
captured. -/
def serve (leancot : Bool) : IO Unit := do
  let inp ← IO.FS.Handle.mk "/dev/stdin" .read
  let out ← IO.FS.Handle.mk "/dev/stdout" .write
  let opts := baseOptions leancot
  let imports : Array Import := #[{ module := `Init }]
  let env ← importModules imports opts (loadExts := true)
  let base := Command.mkState env {} opts
  let st ← IO.mkRef
    ({ leancot, opts, base, headers := [(importsKey imports, base)] } : State)
  if leancot then
    reply true out (Json.mkObj [("ready", Json.bool true), ("version", Json.str Lean.versionString)])
  loop st inp out

/-- The native executable's loop (`LeanCot/ReplMain.lean`): leancot's protocol when
`LEANCOT_REPL_PROTOCOL=leancot` is set, else the community REPL's. (The WebAssembly build does not
pass the environment on to Lean, so its runners name the protocol in their `#eval` instead.) -/
def mainIO : IO Unit := do
  serve ((← IO.getEnv "LEANCOT_REPL_PROTOCOL") == some "leancot")

/-- The entry point of the community protocol's runner (`#eval LeanCot.Repl.main`): a
`CommandElabM` action, because the WASM build's `#eval` of an `IO` action goes through a helper it
cannot run (`Command.liftTermElabM._redArg`). -/
def main : Command.CommandElabM Unit := serve false

/-- The entry point of leancot's protocol's runner (`#eval LeanCot.Repl.mainLeancot`). -/
def mainLeancot : Command.CommandElabM Unit := serve true

end LeanCot.Repl
