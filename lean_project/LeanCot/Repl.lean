/-
leancot's Lean REPL. It speaks the JSON protocol of leanprover-community/repl:

  {"cmd": "...", "env": n?}            → {"env", "messages", "sorries"}
  {"tactic": "...", "proofState": n}   → {"proofState", "goals", "messages", "proofStatus"}

Requests are JSON objects, each followed by a blank line. Every reply is one line prefixed with
`@@LEANCOT@@ ` (other stdout lines are output of user `#eval`s and must be ignored). Once the base
environment is imported it prints `@@LEANCOT@@ {"ready": true, ...}`.

It runs as `lean LeanCot/Repl.lean` (its last command is `#eval`) under both the WebAssembly build
and a native toolchain. The WASM build cannot interpret private or compiler-generated helpers of the
core library, so this file uses its own small recursive helpers and builds contexts by hand.
Driven by `leancot/lean/server.py`.
-/
import Lean.Elab.Frontend
-- Elaborate this file on one thread: the REPL is sequential, and under WASM every extra thread
-- keeps its own heap (measured: 0.4 GB less peak memory at start-up).
set_option Elab.async false
open Lean Elab Meta

namespace LeanCot.Repl

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
  /-- Command states (environment and scopes: namespaces, `open`s, variables), by handle. -/
  envs : Array Command.State := #[]
  headers : List (String × Nat) := []
  proofs : Array ProofSnap := #[]

def marker : String := "@@LEANCOT@@ "

/-- Synchronous elaboration (messages land in the command state), the default heartbeat limit,
and no auto-bound implicits: an unknown name in a statement is an error, as in Mathlib. -/
def baseOptions : Options :=
  ((({} : Options).setBool `Elab.async false).setNat `maxHeartbeats 200000).setBool
    `autoImplicit false

/-! ## Own folds (the WASM build cannot run the library's specialised helpers) -/

partial def arrFold (f : β → α → β) (xs : Array α) (i : Nat) (b : β) : β :=
  if h : i < xs.size then arrFold f xs (i + 1) (f b xs[i]) else b

partial def paNodeFold (f : β → α → β) (n : PersistentArrayNode α) (b : β) : β :=
  match n with
  | .node cs => arrFold (fun b c => paNodeFold f c b) cs 0 b
  | .leaf vs => arrFold f vs 0 b

def paFold (f : β → α → β) (xs : PersistentArray α) (b : β) : β :=
  arrFold f xs.tail 0 (paNodeFold f xs.root b)

def paToArray (xs : PersistentArray α) : Array α :=
  paFold (fun acc x => acc.push x) xs #[]

def logMessages (log : MessageLog) : Array Message := paToArray log.unreported

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

def messageJson (m : Message) : IO Json := do
  let data ← m.data.toString
  let endPos := match m.endPos with
    | some p => posJson p
    | none => Json.null
  return Json.mkObj [("severity", Json.str (severityName m.severity)), ("pos", posJson m.pos),
    ("endPos", endPos), ("data", Json.str data)]

partial def messagesJsonAux (ms : Array Message) (i : Nat) (acc : Array Json) : IO (Array Json) := do
  if h : i < ms.size then messagesJsonAux ms (i + 1) (acc.push (← messageJson ms[i])) else return acc

def messagesJson (ms : Array Message) : IO Json := do
  return Json.arr (← messagesJsonAux ms 0 #[])

def hasErrors (log : MessageLog) : Bool :=
  paFold (fun b m => b || m.severity == .error) log.unreported false

partial def errorTextAux (ms : Array Message) (i : Nat) (acc : String) : IO String := do
  if h : i < ms.size then
    let m := ms[i]
    if m.severity == .error then
      errorTextAux ms (i + 1) (acc ++ (← m.data.toString) ++ "\n")
    else errorTextAux ms (i + 1) acc
  else return acc

def errorJson (msg : String) : Json := Json.mkObj [("message", Json.str msg)]

/-! ## Goals -/

partial def ppGoalsAux (gs : List MVarId) (acc : Array Json) : MetaM (Array Json) := do
  match gs with
  | [] => return acc
  | g :: rest =>
    let fmt ← ppGoal g
    ppGoalsAux rest (acc.push (Json.str (toString fmt)))

def runMetaIn (env : Environment) (mctx : MetavarContext) (opts : Options) (ns : Name)
    (openDecls : List OpenDecl) (ngenTag : Nat) (x : MetaM α) : IO (Except String (α × Environment)) := do
  -- heartbeats count from now: the process's counter only grows, and without this every tactic
  -- fails with "maximum number of heartbeats" once enough has been elaborated
  let heartbeats ← IO.getNumHeartbeats
  let coreCtx : Core.Context := {
    fileName := "<leancot>", fileMap := FileMap.ofString "", options := opts,
    currNamespace := ns, openDecls := openDecls, initHeartbeats := heartbeats,
    maxHeartbeats := 200000 * 1000 }
  let coreState : Core.State := {
    env := env, ngen := { namePrefix := Name.mkNum `_leancot ngenTag, idx := 1 } }
  let core : CoreM α := do
    let (a, _) ← x.run {} { mctx := mctx }
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

def nameKey : Name → String
  | .anonymous => ""
  | .str p s => nameKey p ++ "." ++ s
  | .num p n => nameKey p ++ "." ++ Nat.repr n

/-- `Name.toString` without the library's specialised helpers (unescaped). -/
def nameText : Name → String
  | .anonymous => "[anonymous]"
  | .str .anonymous s => s
  | .num .anonymous n => Nat.repr n
  | .str p s => nameText p ++ "." ++ s
  | .num p n => nameText p ++ "." ++ Nat.repr n

def importsKey (imports : Array Import) : String :=
  arrFold (fun acc (i : Import) => acc ++ nameKey i.module ++ ";") imports 0 ""

def lookupHeader : List (String × Nat) → String → Option Nat
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

def elabInput (base : Command.State) (input : String) (withHeader : Bool)
    (headers : List (String × Nat)) (envs : Array Command.State) :
    IO (Except String (Elaborated × Option (String × Command.State))) := do
  let inputCtx := Parser.InputContext.mk' input "<input>" (FileMap.ofString input) input.rawEndPos
  let (base, parserState, newHeader) ← if withHeader then do
      let (header, parserState, msgs) ← Parser.parseHeader inputCtx
      if hasErrors msgs then
        return .error "could not parse the header"
      let imports := headerToImports header
      let key := importsKey imports
      match lookupHeader headers key with
      | some i => match envs[i]? with
        | some e => pure (e, parserState, none)
        | none => return .error "internal error: header cache"
      | none =>
        let env ← importModules imports baseOptions (loadExts := true)
        let fresh := Command.mkState env {} baseOptions
        pure (fresh, parserState, some (key, fresh))
    else
      pure (base, ({} : Parser.ModuleParserState), none)
  let s ← elabCommands inputCtx parserState base {} {}
  return .ok (s, newHeader)

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

partial def collectTactics (ctx? : Option ContextInfo) (t : InfoTree) (acc : Array TacticAt) :
    Array TacticAt :=
  match t with
  | .context pctx t => collectTactics (pctx.mergeIntoOuter? ctx?) t acc
  | .node info children =>
    let acc := match ctx?, info with
      | some ctx, .ofTacticInfo ti =>
        acc.push ⟨ctx, ti, paFold (fun acc c => constantsOf c acc) children #[]⟩
      | _, _ => acc
    paFold (fun acc c => collectTactics ctx? c acc) children acc
  | .hole _ => acc

def ppGoalsIn (ctx : ContextInfo) (mctx : MetavarContext) (gs : List MVarId) : IO Json := do
  match ← runMetaIn ctx.env mctx ctx.options ctx.currNamespace ctx.openDecls 0 (ppGoalsAux gs #[]) with
  | .ok (pp, _) => return Json.arr pp
  | .error e => return Json.arr #[Json.str s!"<error printing goals: {e}>"]

def tacticJson (t : TacticAt) : IO Json := do
  let fm := t.ctx.fileMap
  let pos := fm.toPosition (t.info.stx.getPos?.getD 0)
  let endPos := fm.toPosition (t.info.stx.getTailPos?.getD 0)
  let decl := match t.ctx.parentDecl? with
    | some n => Json.str (nameText n)
    | none => Json.null
  return Json.mkObj [("kind", Json.str (nameText t.info.stx.getKind)), ("pos", posJson pos),
    ("endPos", posJson endPos), ("decl", decl),
    ("goalsBefore", ← ppGoalsIn t.ctx t.info.mctxBefore t.info.goalsBefore),
    ("goalsAfter", ← ppGoalsIn t.ctx t.info.mctxAfter t.info.goalsAfter),
    ("constants", Json.arr (arrFold (fun acc n => acc.push (Json.str (nameText n))) t.consts 0 #[]))]

/-! ## The request loop -/

def addProof (st : IO.Ref State) (p : ProofSnap) : IO Nat := do
  let s ← st.get
  st.set { s with proofs := s.proofs.push p }
  return s.proofs.size

/-- A fresh goal for a term `sorry`: its expected type in its local context (no goal when the
type was not known: a `sorry` that stands for a whole term always has one). Local instances of
that context are not registered again. -/
def termSorryGoal (ti : TermInfo) : MetaM (MVarId × MetavarContext) := do
  let some ty := ti.expectedType? | throwError "a term sorry without an expected type"
  let ty ← instantiateMVars ty
  let goal ← mkFreshExprMVarAt ti.lctx {} ty .syntheticOpaque
  return (goal.mvarId!, ← getMCtx)

/-- The goal and metavariable context a `sorry` leaves open. -/
def sorryGoal (s : SorryAt) : IO (Except String (MVarId × MetavarContext)) := do
  match s.kind with
  | .tactic ti => match ti.goalsBefore with
    | [] => return .error "no goal"
    | g :: _ => return .ok (g, ti.mctxBefore)
  | .term ti =>
    let ctx := s.ctx
    match ← runMetaIn ctx.env ctx.mctx ctx.options ctx.currNamespace ctx.openDecls 0
        (termSorryGoal ti) with
    | .ok (r, _) => return .ok r
    | .error e => return .error e

def sorryJson (st : IO.Ref State) (s : SorryAt) : IO Json := do
  let ctx := s.ctx
  match ← sorryGoal s with
  | .error _ => return Json.null
  | .ok (g, mctx) =>
    let goals ← runMetaIn ctx.env mctx ctx.options ctx.currNamespace ctx.openDecls 0
      (ppGoalsAux [g] #[])
    let goalText := match goals with
      | .ok (gs, _) => (gs[0]?.getD Json.null)
      | .error e => Json.str e
    let snap : ProofSnap := {
      env := ctx.env, mctx := mctx, root := g, goals := [g],
      options := ctx.options, currNamespace := ctx.currNamespace, openDecls := ctx.openDecls }
    let id ← addProof st snap
    let fm := ctx.fileMap
    let pos := fm.toPosition (s.stx.getPos?.getD 0)
    let endPos := fm.toPosition (s.stx.getTailPos?.getD 0)
    return Json.mkObj [("pos", posJson pos), ("endPos", posJson endPos), ("goal", goalText),
      ("proofState", toJson id)]

partial def mapIO (f : α → IO β) (xs : List α) (acc : Array β) : IO (Array β) := do
  match xs with
  | [] => return acc
  | x :: rest => mapIO f rest (acc.push (← f x))

def handleCmd (st : IO.Ref State) (cmd : String) (env? : Option Nat) (allTactics : Bool) :
    IO Json := do
  let s ← st.get
  let base ← match env? with
    | some i => match s.envs[i]? with
      | some e => pure (some e)
      | none => pure none
    | none => pure s.envs[0]?
  let some base := base | return errorJson s!"unknown environment {env?.getD 0}"
  let r ← elabInput base cmd env?.isNone s.headers s.envs
  match r with
  | .error e => return errorJson e
  | .ok (fs, newHeader) =>
    if let some (text, henv) := newHeader then
      let s ← st.get
      st.set { s with envs := s.envs.push henv, headers := (text, s.envs.size) :: s.headers }
    let s ← st.get
    let envId := s.envs.size
    -- Only the command state is kept: the messages and info trees are answered here.
    st.set { s with envs := s.envs.push fs.cmdState }
    let sorries := sorriesOfTrees fs.trees
    let sorryJsons ← mapIO (sorryJson st) sorries.toList #[]
    let messages ← messagesJson fs.messages
    if allTactics then
      let tactics := arrFold (fun acc t => collectTactics none t acc) fs.trees 0 #[]
      let tacticJsons ← mapIO tacticJson tactics.toList #[]
      return Json.mkObj [("env", toJson envId), ("messages", messages),
        ("sorries", Json.arr sorryJsons), ("tactics", Json.arr tacticJsons)]
    return Json.mkObj [("env", toJson envId), ("messages", messages),
      ("sorries", Json.arr sorryJsons)]

def parseTactic (env : Environment) (tac : String) : Except String Syntax :=
  let inputCtx := Parser.InputContext.mk' tac "<tactic>" (FileMap.ofString tac) tac.rawEndPos
  let p := Parser.andthenFn Parser.whitespace Parser.Tactic.tacticSeq.fn
  let s := p.run inputCtx { env, options := {} } (Parser.getTokenTable env) (Parser.mkParserState tac)
  if s.hasError then
    .error (s.toErrorMsg inputCtx)
  else if s.pos != tac.rawEndPos then
    .error s!"<tactic>: unexpected input after the tactic at position {s.pos.byteIdx}"
  else
    .ok s.stxStack.back

partial def unsolved (gs : List MVarId) (acc : List MVarId) : MetaM (List MVarId) := do
  match gs with
  | [] => return reverseList acc []
  | g :: rest =>
    if ← g.isAssigned then unsolved rest acc else unsolved rest (g :: acc)

def runTacticOn (p : ProofSnap) (stx : Syntax) (tag : Nat) :
    IO (Except String ((List MVarId × MetavarContext × Array Json × String) × Environment)) :=
  runMetaIn p.env p.mctx p.options p.currNamespace p.openDecls tag do
    let termM : TermElabM (List MVarId) := do
      let ((), ts) ← (Tactic.evalTactic stx { elaborator := .anonymous, recover := false }).run
        { goals := p.goals }
      Term.synthesizeSyntheticMVarsNoPostponing
      return ts.goals
    let gs ← (termM { errToSorry := false }).run' ({} : Term.State)
    let gs ← unsolved gs []
    let pp ← ppGoalsAux gs #[]
    let status ← if gs matches [] then do
        let pf ← instantiateMVars (Expr.mvar p.root)
        if pf.hasSorry then pure "Incomplete: contains sorry"
        else if pf.hasExprMVar then pure "Incomplete: contains metavariables"
        else pure "Completed"
      else pure "Incomplete: open goals remain"
    return (gs, ← getMCtx, pp, status)

def handleTactic (st : IO.Ref State) (tac : String) (psId : Nat) : IO Json := do
  let s ← st.get
  let some p := s.proofs[psId]? | return errorJson s!"unknown proof state {psId}"
  match parseTactic p.env tac with
  | .error e => return errorJson e
  | .ok stx =>
    match ← runTacticOn p stx (s.proofs.size + 1) with
    | .error e => return errorJson e
    | .ok ((gs, mctx, pp, status), env) =>
      let snap : ProofSnap := { p with env := env, mctx := mctx, goals := gs }
      let id ← addProof st snap
      return Json.mkObj [("proofState", toJson id), ("goals", Json.arr pp),
        ("messages", Json.arr #[]), ("proofStatus", Json.str status)]

/-- An optional field: absent or `null` is `none`; anything else must have the right type. -/
def optionalField [FromJson α] (req : Json) (key : String) : Except String (Option α) :=
  match req.getObjVal? key with
  | .error _ => .ok none
  | .ok Json.null => .ok none
  | .ok v => match fromJson? v with
    | .ok a => .ok (some a)
    | .error e => .error e

def handle (st : IO.Ref State) (req : Json) : IO Json := do
  match req.getObjValAs? String "cmd" with
  | .ok cmd =>
    match optionalField (α := Nat) req "env", optionalField (α := Bool) req "allTactics" with
    | .ok env?, .ok allTactics? => handleCmd st cmd env? (allTactics?.getD false)
    | .error e, _ => return errorJson s!"\"env\" must be a natural number: {e}"
    | _, .error e => return errorJson s!"\"allTactics\" must be a boolean: {e}"
  | .error _ =>
  match req.getObjValAs? String "tactic", req.getObjValAs? Nat "proofState" with
  | .ok tac, .ok ps => handleTactic st tac ps
  | _, _ => return errorJson "request must have \"cmd\" (and optional \"env\") or \"tactic\" and \"proofState\""

partial def blankFrom (b : ByteArray) (i : Nat) : Bool :=
  if i < b.size then
    let c := b.get! i
    (c == 32 || c == 9 || c == 10 || c == 13) && blankFrom b (i + 1)
  else true

def isBlank (s : String) : Bool := blankFrom s.toUTF8 0

/-- Read lines up to a blank line; `none` at end of input. -/
partial def readRequest (h : IO.FS.Handle) (acc : String) : IO (Option String) := do
  let line ← h.getLine
  if line.isEmpty then
    if isBlank acc then return none else return some acc
  else if isBlank line then
    if isBlank acc then readRequest h "" else return some acc
  else readRequest h (acc ++ line)

def reply (out : IO.FS.Handle) (j : Json) : IO Unit := do
  out.putStrLn (marker ++ j.compress)
  out.flush

partial def loop (st : IO.Ref State) (inp out : IO.FS.Handle) : IO Unit := do
  match ← readRequest inp "" with
  | none => return
  | some text =>
    let resp ← match Json.parse text with
      | .error e => pure (errorJson s!"could not parse JSON request: {e}")
      | .ok req =>
        try handle st req catch e => pure (errorJson s!"internal error: {e}")
    reply out resp
    loop st inp out

def mainIO : IO Unit := do
  let inp ← IO.FS.Handle.mk "/dev/stdin" .read
  let out ← IO.FS.Handle.mk "/dev/stdout" .write
  let imports : Array Import := #[{ module := `Init }]
  let env ← importModules imports baseOptions (loadExts := true)
  let st ← IO.mkRef
    ({ envs := #[Command.mkState env {} baseOptions], headers := [(importsKey imports, 0)] } : State)
  reply out (Json.mkObj [("ready", Json.bool true), ("version", Json.str Lean.versionString)])
  loop st inp out

def main : Command.CommandElabM Unit := mainIO

end LeanCot.Repl

#eval LeanCot.Repl.main
