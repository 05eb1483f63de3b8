"""From per-file records (a saved REPL reply plus identifiers) to theorems and corpus (no Lean)."""

import json
from pathlib import Path

from leancot.extract.assemble import assemble
from leancot.extract.origin import Origin

FIXTURE = Path(__file__).parent.parent / "data" / "repl_all_tactics.json"
CORE = ".lake/packages/lean4/src/lean/"


def ident(name, line, col, end, module=None, binder=False, kind="theorem", cmd=None):
    raw = {
        "name": name,
        "pos": {"line": line, "column": col},
        "endPos": {"line": line, "column": end},
        "binder": binder,
        "module": module,
        "kind": kind,
    }
    if cmd:
        raw["cmdPos"], raw["cmdEndPos"] = cmd
    return raw


class FakeServer:
    """Answers the library listing as the REPL's `premises` request does."""

    version = "4.28.0"
    request_timeout = 60.0
    generation = 0

    def __init__(self):
        self.requests = []

    def request(self, obj, timeout=None):
        self.requests.append(obj)
        decl = {
            "name": "Nat.add_comm",
            "kind": "axiom",
            "signature": "Nat.add_comm : ∀ (n m : Nat), n + m = m + n",
        }
        return {
            "modules": [{"name": "Init.Data.Nat.Basic", "imports": [], "declarations": [decl]}],
            "graph": [{"name": "Init", "imports": ["Init.Data.Nat.Basic"]}],
        }


def test_assemble_locates_library_premises_and_writes_the_corpus(tmp_path):
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    cmd = ({"line": 14, "column": 0}, {"line": 15, "column": 22})
    record = {
        "tactics": data["response"]["tactics"],
        "identifiers": [
            ident("Demo.rw_demo", 14, 8, 15, binder=True, cmd=cmd),
            ident("Nat.add_comm", 15, 9, 21, module="Init.Data.Nat.Basic"),
        ],
        "failures": [],
    }
    root = tmp_path / "repo"
    path = root / "proj" / "Demo.lean"
    origin = Origin(root, root / "proj", "file:///repo", "c" * 40, dirty=False, git=True)
    server = FakeServer()
    theorems, corpus, stats = assemble(
        {"proj/Demo.lean": (path, data["source"], record)}, origin, server, tmp_path
    )
    by_name = {t["full_name"]: t for t in theorems}
    step = by_name["Demo.rw_demo"]["traced_tactics"][0]
    assert step["annotated_tactic"] == [
        "rw [h, <a>Nat.add_comm</a>]",
        [
            {
                "full_name": "Nat.add_comm",
                "def_path": f"{CORE}Init/Data/Nat/Basic.lean",
                "def_pos": [1, 1],
                "def_end_pos": [1, 13],
            }
        ],
    ]
    assert stats == {"provenances": 1, "unlocated": 0, "tactics_with_premises": 1}
    assert server.requests[0]["modules"] == ["Init.Data.Nat.Basic"]
    assert server.requests[0]["keep"] == ["Nat.add_comm"]
    assert [c["path"] for c in corpus] == [
        f"{CORE}Init/Data/Nat/Basic.lean",
        f"{CORE}Init.lean",
        "proj/Demo.lean",
    ]
    own = corpus[-1]
    assert own["imports"] == [f"{CORE}Init.lean"]
    assert own["premises"][0]["full_name"] == "Demo.rw_demo"
    assert own["premises"][0]["code"] == "theorem rw_demo (a b : Nat) (h : a = b) : a + 1 = b + 1"
    # `· exact hq` is traced as `exact hq`; nothing with a focusing dot is kept
    assert all("·" not in s["tactic"] for t in theorems for s in t["traced_tactics"])
    # the listing is cached: a second assembly asks Lean nothing
    assemble({"proj/Demo.lean": (path, data["source"], record)}, origin, server, tmp_path)
    assert len(server.requests) == 1
