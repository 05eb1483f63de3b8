"""The `core` benchmark without Lean: the enumeration filters, the hash split, universe levels
in restatements, and the restatement cache (resumed after an interrupted line)."""

from __future__ import annotations

from collections import Counter

from leancot.lean.results import CommandResult, Message
from leancot.prover.core_suite import (
    RestatementCache,
    core_split,
    core_suite,
    drop_reason,
    printed_levels,
    restatement,
)
from leancot.prover.suites import SuiteReport


def test_drop_reason_filters_axioms_generated_and_quoted_names():
    def c(name, kind="axiom"):
        return {"name": name, "kind": kind, "levels": [], "module": "Init.Core"}

    assert drop_reason(c("Nat.add_comm")) is None
    assert drop_reason(c("List.length_append", "theorem")) is None
    assert drop_reason(c("propext")) == "one of Lean's axioms"
    assert drop_reason(c("Nat.rec", "recursor")) == "not a theorem"
    for generated in (
        "_private.Init.Foo.0.Nat.bar",
        "Nat.add.match_1",
        "List.map.eq_1",
        "Char.utf8Size._proof_3",
        "imp_self._simp_1",
        "List.foo.eq_def",
        "Nat.below",
        "Option.some.injEq",
        "instDecidableEqNat",
        "Foo.congr_simp",
    ):
        assert drop_reason(c(generated)) == "private or generated", generated  # fmt: skip
    assert drop_reason(c("«term~~~_»")) == "needs «» quoting"


def test_core_split_is_a_stable_70_10_20_hash_split():
    names = [f"Lemma.l{i}" for i in range(4000)]
    counts = Counter(map(core_split, names))
    assert abs(counts["train"] / 4000 - 0.7) < 0.03
    assert abs(counts["val"] / 4000 - 0.1) < 0.02 and abs(counts["test"] / 4000 - 0.2) < 0.03
    assert [core_split(n) for n in names[:50]] == [core_split(n) for n in names[:50]]


def test_restatements_declare_the_printed_universe_levels():
    text = "∀ {α : Type u_1} {β : Type u_2} (f : α → β) (l : List α), (l.map f).length = l.length"
    assert printed_levels(text) == ["u_1", "u_2"]
    assert restatement("List.length_map", text).startswith(
        "theorem leancot_core_List_length_map.{u_1, u_2} : ∀ {α : Type u_1}"
    )
    assert printed_levels("∀ (n : Nat), n + 0 = n") == []
    assert printed_levels("∀ {α : Sort u_10} (x : α), x = x") == ["u_10"]


class ScriptedServer:
    """`#check @X` prints `TYPES[X]`; `:= @X` elaborates unless X is in `UNFAITHFUL`."""

    TYPES = {"A.ok": "∀ (n : Nat), n = n", "A.bad": "∀ (n : Nat), n = n", "A.fn": "Nat → Nat"}

    def __init__(self, names):
        self.names = names
        self.commands = []
        self.version = "test"

    def run_cmd(self, cmd, env=None, timeout=None):
        self.commands.append(cmd)
        if cmd.startswith("#check @"):
            name = cmd.removeprefix("#check @")
            return CommandResult(1, (Message("info", 1, 0, 1, 1, f"@{name} : {self.TYPES[name]}"),))
        if "@A.bad" in cmd:
            return CommandResult(1, (Message("error", 1, 0, 1, 1, "type mismatch"),))
        if "@A.fn" in cmd:
            msg = "type of theorem `leancot_core_check` is not a proposition"
            return CommandResult(1, (Message("error", 1, 0, 1, 1, msg),))
        return CommandResult(1)

    def header_env(self, header, timeout=None):
        return self.run_cmd(header)

    def library_constants(self, roots, kinds, env=None):
        return [{"name": n, "kind": "axiom", "levels": [], "module": "Init.X"} for n in self.names]


def test_core_suite_restates_counts_and_caches(tmp_path):
    server = ScriptedServer(["A.ok", "A.bad", "A.fn", "propext", "A.ok.eq_1"])
    cache = RestatementCache(tmp_path / "core.jsonl")
    report = SuiteReport("core", None)
    (thm,) = core_suite(server, None, report=report, cache=cache)
    assert thm.statement == "theorem leancot_core_A_ok : ∀ (n : Nat), n = n"
    assert (
        thm.source == "core:A.ok" and thm.header == "import Std" and thm.split == core_split("A.ok")
    )
    assert report.as_dict()["dropped"] == {
        "one of Lean's axioms": 1,
        "private or generated": 1,
        "does not restate faithfully": 1,
        "not a proposition": 1,
    }
    assert (report.candidates, report.kept) == (5, 1)
    with (tmp_path / "core.jsonl").open("a") as f:
        f.write('{"name": "A.cut')  # a line an interrupted run left half-written
    server.commands.clear()
    again = core_suite(server, None, cache=RestatementCache(tmp_path / "core.jsonl"))
    assert again == [thm]
    assert not any(c.startswith("#check") for c in server.commands)  # all from the cache
