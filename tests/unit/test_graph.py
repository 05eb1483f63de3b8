"""The proof search graph: statuses, transpositions, proof extraction, export, rendering."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from leancot.lean.results import Crashed, LeanError, ProofFinished, TacticState, Timeout
from leancot.prover.graph import EdgeResult, ProofGraph, Status
from leancot.prover.graph_export import render, write_graphml

QED = ProofFinished(99)
ERR = LeanError("tactic failed")


def st(pp: str) -> TacticState:
    return TacticState(pp, id=0, goals=tuple(pp.split("\n\n")))


def test_proved_propagates_to_the_root():
    g = ProofGraph()
    g.add_root("⊢ p ∧ q")
    e0, new = g.add_edge(0, "constructor", st("⊢ p\n\n⊢ q"), logprob=-0.5, thought="split")
    assert new and e0.dst == 1 and e0.result is EdgeResult.OK
    g.add_edge(1, "exact hp", st("⊢ q"))
    g.add_edge(0, "bogus", ERR)
    assert [n.status for n in g.nodes] == [Status.OPEN] * 3
    g.add_edge(2, "exact hq", QED)
    assert [n.status for n in g.nodes] == [Status.PROVED] * 3
    assert g.extract_proof() == ["constructor", "exact hp", "exact hq"]
    g.check_invariants()


def test_failed_needs_a_closed_node_whose_edges_are_all_dead():
    g = ProofGraph()
    g.add_root("⊢ a")
    g.add_edge(0, "t1", st("⊢ b"))
    g.add_edge(0, "t2", st("⊢ c"))
    g.add_edge(1, "x", ERR)
    g.add_edge(1, "y", Timeout(1.0))
    assert g.nodes[1].status is Status.OPEN  # not closed yet: more edges may come
    g.close(1)
    assert g.nodes[1].status is Status.FAILED
    g.close(0)
    assert g.root.status is Status.OPEN  # node 2 is still open
    g.add_edge(2, "z", Crashed("oom"))
    g.close(2)
    assert [n.status for n in g.nodes] == [Status.FAILED] * 3
    assert g.extract_proof() is None
    assert g.edges[-1].error == "crashed: oom" and g.edges[-1].result is EdgeResult.ERROR
    assert g.edges[3].result is EdgeResult.TIMEOUT
    g.check_invariants()
    with pytest.raises(ValueError, match="closed"):
        g.add_edge(0, "late", QED)


def test_a_node_without_edges_fails_when_closed():
    g = ProofGraph()
    g.add_root("⊢ a")
    g.close(0)
    assert g.root.status is Status.FAILED
    g.check_invariants()


def test_transpositions_meet_in_one_node():
    g = ProofGraph()
    g.add_root("⊢ s0")
    g.add_edge(0, "a", st("⊢ s1"))
    g.add_edge(0, "b", st("⊢ s2"))
    g.add_edge(1, "b", st("⊢ s3"))
    edge, new = g.add_edge(2, "a", st("⊢ s3"))
    assert not new and edge.dst == 3 and edge.result is EdgeResult.OK
    assert len(g.nodes) == 4 and len(g.nodes[3].in_edges) == 2
    assert g.find("⊢ s3") is g.nodes[3]
    g.add_edge(3, "done", QED)  # both parents become PROVED
    assert all(n.status is Status.PROVED for n in g.nodes)
    assert g.extract_proof() == ["a", "b", "done"]  # shortest; ties go to the earliest edge
    g.check_invariants()


def test_a_tactic_back_to_an_ancestor_is_a_no_progress_error():
    g = ProofGraph()
    g.add_root("⊢ s0")
    g.add_edge(0, "a", st("⊢ s1"))
    loop, new = g.add_edge(1, "undo", st("⊢ s0"))
    self_loop, _ = g.add_edge(1, "skip", st("⊢ s1"))
    assert not new
    for e in (loop, self_loop):
        assert e.result is EdgeResult.ERROR and "no progress" in (e.error or "")
    assert loop.dst == 0 and self_loop.dst == 1
    g.close(1)
    assert g.nodes[1].status is Status.FAILED
    assert nx.is_directed_acyclic_graph(g.dag)
    g.check_invariants()


def test_an_edge_into_a_known_proved_or_failed_node():
    g = ProofGraph()
    g.add_root("⊢ s0")
    g.add_edge(0, "a", st("⊢ s1"))
    g.add_edge(0, "b", st("⊢ s2"))
    g.add_edge(2, "x", ERR)
    g.close(2)
    g.add_edge(1, "c", st("⊢ s2"))  # into a FAILED node: dead
    assert g.is_dead(g.edges[-1])
    g.add_edge(1, "d", st("⊢ s3"))
    g.add_edge(3, "qed", QED)
    g.close(1)
    assert g.nodes[1].status is Status.PROVED
    assert g.extract_proof() == ["a", "d", "qed"]
    g.check_invariants()


def test_shortest_proof_is_extracted():
    g = ProofGraph()
    g.add_root("⊢ s0")
    g.add_edge(0, "long1", st("⊢ a"))
    g.add_edge(1, "long2", st("⊢ b"))
    g.add_edge(2, "long3", QED)
    g.add_edge(0, "short1", st("⊢ c"))
    g.add_edge(3, "short2", QED)
    assert g.extract_proof() == ["short1", "short2"]
    assert [e.id for e in g.proof_edges() or []] == [3, 4]


def test_multi_goal_node():
    g = ProofGraph()
    g.add_root("h : p ∧ q\n⊢ q ∧ p")
    g.add_edge(0, "constructor", st("h : p ∧ q\n⊢ q\n\nh : p ∧ q\n⊢ p"))
    node = g.nodes[1]
    assert node.num_goals == 2
    assert ProofGraph().add_root("⊢ a\n\n⊢ b").num_goals == 2  # counted from the text
    g.add_edge(1, "exact h.2", st("h : p ∧ q\n⊢ p"))
    g.add_edge(2, "exact h.1", QED)
    assert g.extract_proof() == ["constructor", "exact h.2", "exact h.1"]


def test_invariants_catch_corruption():
    g = ProofGraph()
    g.add_root("⊢ a")
    g.add_edge(0, "t", QED)
    g.check_invariants()
    g.nodes[0].status = Status.OPEN
    with pytest.raises(AssertionError, match="proving edge"):
        g.check_invariants()
    g.nodes[0].status = Status.FAILED
    with pytest.raises(AssertionError):
        g.check_invariants()


def _sample() -> ProofGraph:
    g = ProofGraph()
    g.add_root("n : Nat\n⊢ n + 0 = n")
    g.add_edge(0, "rfl", ERR, logprob=-0.1)
    g.add_edge(0, "induction n", st("⊢ 0 + 0 = 0\n\n⊢ k + 1 + 0 = k + 1"), thought="induct")
    g.add_edge(1, "simp", QED, logprob=-0.2)
    g.nodes[1].visits, g.nodes[1].value_sum = 2, 1.5
    g.nodes[0].prior_value = 0.25
    return g


def test_json_matches_the_search_log_format_and_round_trips():
    g = _sample()
    obj = json.loads(json.dumps(g.to_json()))
    assert obj["root"] == 0
    assert obj["nodes"][0] == {
        "id": 0,
        "state": "n : Nat\n⊢ n + 0 = n",
        "status": "PROVED",
        "visits": 0,
        "value": 0.25,
    }
    assert obj["nodes"][1]["value"] == 0.75
    assert obj["edges"][0] == {
        "src": 0,
        "dst": None,
        "tactic": "rfl",
        "thought": "",
        "logprob": -0.1,
        "result": "error",
        "error": "tactic failed",
        "visits": 0,
    }
    assert [e["result"] for e in obj["edges"]] == ["error", "ok", "proved"]
    back = ProofGraph.from_json(obj)
    assert back.to_json() == obj
    assert [n.depth for n in back.nodes] == [0, 1]
    assert back.extract_proof() == ["induction n", "simp"]
    back.check_invariants()


def test_graphml_export(tmp_path):
    path = tmp_path / "g.graphml"
    write_graphml(_sample(), path)
    h = nx.read_graphml(path)
    assert h.nodes["n0"]["status"] == "PROVED"
    assert {d["result"] for _, _, d in h.edges(data=True)} == {"ok", "error", "proved"}
    assert h.number_of_nodes() == 4  # two states, one qed, one dead end


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_render_writes_an_image(tmp_path, suffix, magic):
    pytest.importorskip("matplotlib")
    path = tmp_path / f"sub/graph{suffix}"
    render(_sample(), path)
    assert path.read_bytes().startswith(magic)


def test_render_rejects_other_formats(tmp_path):
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match="png or .svg"):
        render(_sample(), tmp_path / "g.pdf")
