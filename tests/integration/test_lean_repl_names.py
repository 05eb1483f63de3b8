"""Names that need «» and the per-request heartbeat limit, on the real Lean REPL (Repl.lean)."""

from __future__ import annotations

import pytest

from leancot.extract.dataset import read_benchmark
from leancot.extract.extractor import ExtractConfig, main
from leancot.lean import ProofFinished, TacticState, check_file, verify

pytestmark = [pytest.mark.slow, pytest.mark.lean, pytest.mark.timeout(600)]

# `«1st»` needs escaping (a digit cannot start an identifier) and is spelled so in the source;
# `x.«1»` is a string component "1", not the number component of `x.1`.
ESCAPED = """\
namespace Demo

theorem «1st» : True := by trivial

theorem uses_first : True := by exact «1st»

theorem x.«1» : 1 = 1 := by rfl

end Demo
"""


def raw(server, request: dict) -> dict:
    reply = server.request(request)
    assert isinstance(reply, dict), reply
    return reply


def test_traced_names_are_escaped(lean_server):
    reply = raw(
        lean_server,
        {
            "cmd": "theorem «my thm» : True := trivial\ntheorem x.«1» : True := by exact «my thm»",
            "allTactics": True,
        },
    )
    assert not [m for m in reply.get("messages", []) if m["severity"] == "error"], reply
    decls = {t["decl"] for t in reply["tactics"]}
    assert decls == {"x.«1»"}
    assert {c for t in reply["tactics"] for c in t["constants"]} == {"«my thm»"}
    # syntax kinds stay as they are: Python compares them with Lean's kind names
    assert "Lean.Parser.Term.byTactic" in {t["kind"] for t in reply["tactics"]}


def test_printed_names_parse_back(lean_server):
    reply = raw(lean_server, {"cmd": ESCAPED, "allTactics": True})
    decls = sorted({t["decl"] for t in reply["tactics"]})
    assert decls == ["Demo.uses_first", "Demo.x.«1»", "Demo.«1st»"]
    checks = "".join(f"#check @{d}\n" for d in decls)
    check = raw(lean_server, {"cmd": checks, "env": reply["env"]})
    infos = [m["data"] for m in check.get("messages", []) if m["severity"] == "info"]
    assert infos == ["Demo.uses_first : True", "Demo.x.«1» : 1 = 1", "Demo.«1st» : True"], check


def test_extraction_round_trips_escaped_names(lean_server, tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "Escaped.lean").write_text(ESCAPED, encoding="utf-8")
    out = tmp_path / "dataset"
    config = ExtractConfig(out_dir=out, source=project, url="local:test", commit="abc")
    summary = main(config, server=lean_server, progress=False)
    assert not summary.files_failed, summary.files_failed
    entries = [t for split in read_benchmark(out).values() for t in split]
    names = sorted(e["full_name"] for e in entries)
    assert names == ["Demo.uses_first", "Demo.x.«1»", "Demo.«1st»"]
    (step,) = [e for e in entries if e["full_name"] == "Demo.uses_first"][0]["traced_tactics"]
    text, premises = step["annotated_tactic"]
    assert text == "exact <a>«1st»</a>"
    assert premises[0]["full_name"] == "Demo.«1st»"
    assert premises[0]["def_path"] == "Escaped.lean" and premises[0]["def_pos"] is not None


def test_verification_reports_escaped_names(lean_server, tmp_path):
    verdict = verify("theorem «my thm» : True", "trivial", server=lean_server)
    assert verdict.ok, verdict.reasons
    wrong = verify("theorem «my thm» : 1 = 2", "by decide", server=lean_server)
    assert not wrong.ok
    path = tmp_path / "names.lean"
    path.write_text("theorem «my thm» : True := trivial\n" + ESCAPED, encoding="utf-8")
    report = check_file(path, server=lean_server)
    assert report.ok, (report.errors, [(t.name, t.verdict.reasons) for t in report.theorems])
    assert [t.name for t in report.theorems] == [
        "«my thm»",
        "Demo.«1st»",
        "Demo.uses_first",
        "Demo.x.«1»",
    ]
    assert report.verdict("«my thm»").ok


HEAVY = "(List.range 20).length = 20"


def test_command_heartbeat_limit_per_request(lean_server):
    limited = raw(lean_server, {"cmd": f"example : {HEAVY} := by decide", "maxHeartbeats": 1})
    errors = [m["data"] for m in limited.get("messages", []) if m["severity"] == "error"]
    assert errors and "maximum number of heartbeats (1)" in errors[0], limited
    # the limit was the request's: the environment it returned has the default limit again
    cheap = raw(lean_server, {"cmd": "theorem t0 : True := trivial", "maxHeartbeats": 1})
    assert not cheap.get("messages"), cheap
    after = raw(lean_server, {"cmd": f"example : {HEAVY} := by decide", "env": cheap["env"]})
    assert not after.get("messages"), after
    # a `set_option` in the text is the text's own and stays
    kept = raw(
        lean_server,
        {"cmd": "set_option maxHeartbeats 1", "maxHeartbeats": 100000},
    )
    later = raw(lean_server, {"cmd": f"example : {HEAVY} := by decide", "env": kept["env"]})
    assert any("heartbeats (1)" in m["data"] for m in later.get("messages", [])), later
    bad = raw(lean_server, {"cmd": "#check Nat", "maxHeartbeats": "many"})
    assert "maxHeartbeats" in bad["message"]


def test_tactic_heartbeat_limit_per_request(lean_server):
    state = lean_server.start_proof(f"theorem heavy : {HEAVY}")
    assert isinstance(state, TacticState), state
    limited = raw(lean_server, {"tactic": "decide", "proofState": state.id, "maxHeartbeats": 1})
    assert "maximum number of heartbeats (1)" in limited["message"], limited
    # the same proof state, the default limit: the tactic closes the goal
    assert isinstance(lean_server.run_tac(state, "decide"), ProofFinished)
    bad = raw(lean_server, {"tactic": "decide", "proofState": state.id, "maxHeartbeats": -1})
    assert "maxHeartbeats" in bad["message"]
