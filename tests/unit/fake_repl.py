"""A tiny stand-in for the Lean REPL, for tests of the process layer that must not need Lean.

`fake_backend(tmp_path, **env)` writes the script into tmp_path and returns a Backend running it.
It speaks the marker framing (or plain with FAKE_FRAMING=plain) and understands a few commands:
  sleep            never answers            exit N       dies with exit code N
  (also any command containing loop_forever / crash_now)
  alloc N          holds N MiB, no answer   hold N       holds N MiB, then answers
  spawn            starts a sleeping child and reports its pid as an info message
  garbage          a marker line with malformed JSON
  noise            prints non-protocol lines before answering
  forge            prints two forged reply lines (no nonce, a wrong one) before answering
any other text is a command: a line containing `bad_term` gets an error message on that line,
`sorry` a sorry (with a proof state), `#print axioms NAME` an axioms message (sorryAx when NAME
contains "sorry", Lean.ofReduceBool when it contains "native").
`runaway` (command or tactic) is stopped by the request's heartbeat limit, as Lean reports it;
`heartbeats` answers with an info message giving the request's `maxHeartbeats`.
`{"forget": {"envs": [..], "proofStates": [..]}}` frees handles; a later use is an error.
Tactics: `done` finishes the proof, `fail` is an error, `sleep` never answers, others give a goal.
FAKE_MODE at start-up: die_at_start, never_ready, garbage_at_start; FAKE_START_DELAY: seconds
before the ready line; FAKE_FAIL_FILE: die at start-up
when that file exists (to make a restart fail).
"""

from __future__ import annotations

import sys
from pathlib import Path

from leancot.lean.backends import Backend

SCRIPT = r"""
import json, os, subprocess, sys, time

MARK = "@@LEANCOT@@ "
PLAIN = os.environ.get("FAKE_FRAMING") == "plain"


NONCE = [None]  # the current request's nonce, echoed like the real REPL does


def out(obj):
    if NONCE[0] is not None and "ready" not in obj:
        obj = {**obj, "nonce": NONCE[0]}
    if PLAIN:
        sys.stdout.write(json.dumps(obj, indent=1) + "\n\n")
    else:
        sys.stdout.write(MARK + json.dumps(obj) + "\n")
    sys.stdout.flush()


def pos(line, column=0):
    return {"line": line, "column": column}


def msg(severity, line, text):
    return {"severity": severity, "pos": pos(line), "endPos": pos(line, 5), "data": text}


mode = os.environ.get("FAKE_MODE", "")
fail_file = os.environ.get("FAKE_FAIL_FILE")
if mode == "die_at_start" or (fail_file and os.path.exists(fail_file)):
    sys.stderr.write("[DEBUG] glue noise\nfatal: cannot import Init\n")
    sys.exit(3)
if mode == "never_ready":
    time.sleep(3600)
time.sleep(float(os.environ.get("FAKE_START_DELAY", "0")))
sys.stderr.write("[DEBUG] started\n")
sys.stderr.flush()
print("noise before the ready line", flush=True)
if mode == "garbage_at_start":
    sys.stdout.write(MARK + "{not json\n")
    sys.stdout.flush()
if not PLAIN:
    out({"ready": True, "version": "fake-4.0"})

envs = 0
states = 0
hold = []
freed_envs, freed_states = set(), set()


def heartbeat_error(req):
    limit = req.get("maxHeartbeats", 200000)
    return ("(deterministic) timeout at `whnf`, maximum number of heartbeats (%d) has been "
            "reached" % limit)


def read_request():
    lines = []
    for line in sys.stdin:
        if line.strip():
            lines.append(line)
        elif lines:
            return "".join(lines)
    return "".join(lines) if lines else None


def command(req):
    global envs, states
    cmd = req["cmd"]
    words = cmd.split()
    if cmd == "sleep" or "loop_forever" in cmd:
        time.sleep(3600)
    if "crash_now" in cmd:
        os._exit(9)
    if words[:1] == ["exit"]:
        sys.stderr.write("dying on purpose\n")
        sys.stderr.flush()
        os._exit(int(words[1]))
    if words[:1] in (["alloc"], ["hold"]):
        hold.append(b"\x01" * (int(words[1]) << 20))
        if words[0] == "alloc":
            time.sleep(3600)
    if cmd == "garbage":
        sys.stdout.write(MARK + "{oops\n")
        sys.stdout.flush()
        return
    if cmd == "noise":
        print("output of some #eval", flush=True)
        print("@@LEANCO not quite a marker", flush=True)
    if req.get("env") in freed_envs:
        out({"message": "environment %d was freed" % req["env"]})
        return
    if "env" in req and not 0 <= req["env"] < envs:
        out({"message": "unknown environment %d" % req["env"]})
        return
    messages, sorries = [], []
    if cmd == "runaway":
        messages.append(msg("error", 1, heartbeat_error(req)))
    if cmd == "heartbeats":
        messages.append(msg("info", 1, str(req.get("maxHeartbeats"))))
    if cmd == "spawn":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
        messages.append(msg("info", 1, str(child.pid)))
    for i, line in enumerate(cmd.split("\n"), start=1):
        if "bad_term" in line:
            messages.append(msg("error", i, "unknown identifier 'bad_term'"))
        if "sorry" in line and not line.startswith("#print"):
            messages.append(msg("warning", i, "declaration uses 'sorry'"))
            sorries.append({"pos": pos(i), "endPos": pos(i, 5), "goal": "⊢ True",
                            "proofState": states})
            states += 1
        if line.startswith("#print axioms "):
            name = line.split()[2]
            axioms = ["propext"]
            if "sorry" in name:
                axioms.append("sorryAx")
            if "native" in name:
                axioms.append("Lean.ofReduceBool")
            text = "'%s' depends on axioms: [%s]" % (name, ", ".join(axioms))
            messages.append(msg("info", i, text))
    out({"env": envs, "messages": messages, "sorries": sorries})
    envs += 1


def tactic(req):
    global states
    ps, tac = req["proofState"], req["tactic"]
    if not 0 <= ps < states or ps in freed_states:
        out({"message": "unknown proof state %d" % ps})
        return
    if tac == "runaway":
        out({"message": heartbeat_error(req)})
        return
    if tac == "sleep":
        time.sleep(3600)
    if tac == "fail":
        out({"message": "tactic 'fail' failed"})
        return
    goals = [] if tac == "done" else ["⊢ " + tac]
    status = "Completed" if not goals else "Incomplete: open goals remain"
    out({"proofState": states, "goals": goals, "messages": [], "proofStatus": status})
    states += 1


while (text := read_request()) is not None:
    req = json.loads(text)
    NONCE[0] = req.get("nonce")
    if req.get("cmd") == "forge":  # checked code printing a reply of its own, then the real one
        sys.stdout.write(MARK + json.dumps({"env": 99, "messages": [], "sorries": []}) + "\n")
        sys.stdout.write(MARK + json.dumps({"env": 98, "messages": [], "nonce": "guess"}) + "\n")
    if "forget" in req:
        spec = req["forget"]
        freed_envs.update(spec.get("envs", []))
        freed_states.update(spec.get("proofStates", []))
        out({"forgotten": {"envs": len(spec.get("envs", [])),
                           "proofStates": len(spec.get("proofStates", []))}})
    elif "cmd" in req:
        command(req)
    elif "tactic" in req:
        tactic(req)
    elif "verify" in req:  # a canned success, unless the text asks to hang or crash
        if "loop_forever" in req["verify"]:
            time.sleep(3600)
        if "crash_now" in req["verify"]:
            sys.exit(3)
        envs += 1
        out({"messages": [], "sorries": 0, "commands": [], "axioms": [], "unsafe": [],
             "kernel": {"ok": True}, "env": envs, "extra": [], "scopeChanged": False,
             "theorem": {"name": "t", "found": True, "kind": "theorem", "typeMatches": True,
                         "levelsMatch": True}})
    else:
        out({"message": "bad request"})
"""


def fake_backend(tmp_path: Path, **env: str) -> Backend:
    script = tmp_path / "fake_repl.py"
    script.write_text(SCRIPT, encoding="utf-8")
    framing = "plain" if env.get("FAKE_FRAMING") == "plain" else "marker"
    argv = (sys.executable, str(script))
    return Backend("fake", argv, tuple(env.items()), tmp_path, framing, 10.0)
