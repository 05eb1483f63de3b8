"""Premise retrieval without Lean: the index's candidates, BM25, recall on a fixture with known
answers, the retrieval prompt, and premise tactics that never offer a banned name."""

from __future__ import annotations

from retrieval_corpus import LIBRARY, write_dataset

from leancot.models.bm25 import BM25Retriever
from leancot.models.premises import Premise, PremiseIndex, header_premises, premise_words
from leancot.models.prompts import format_state_prompt
from leancot.prover.mixture import mixture
from leancot.prover.policies import bind_theorem
from leancot.prover.premises import banned_names, read_library, usable_constant
from leancot.prover.retrieval import PremiseSource, PremiseTactics
from leancot.train.retriever_data import candidates, dataset_index, retrieval_examples
from leancot.train.retriever_eval import recall_at
from tests.unit.recording_policy import RecordingPolicy


class TableRetriever:
    """Ranks by a fixed table `state -> names`, keeping only allowed premises (as real
    retrievers do)."""

    def __init__(self, table):
        self.table = table

    def rank(self, state, allowed, k):
        by_name = {p.name: p for p in allowed}
        return [by_name[n] for n in self.table.get(state, []) if n in by_name][:k]


def test_candidates_are_the_library_and_earlier_declarations_without_the_theorem(tmp_path):
    index = dataset_index(write_dataset(tmp_path), LIBRARY)
    examples = {e.theorem: e for e in retrieval_examples(tmp_path, "train")}
    names = [p.name for p in candidates(index, examples["Arith.double_add"])]
    assert names[:2] == ["Arith.double", "Arith.double_zero"]  # before double_add, in order
    assert "Arith.double_add" not in names and "Arith.triple" not in names  # itself, later
    assert set(names[2:]) == {p.name for p in LIBRARY}


def test_recall_on_a_fixture_with_known_answers(tmp_path):
    index = dataset_index(write_dataset(tmp_path), LIBRARY)
    examples = retrieval_examples(tmp_path, "test")
    table = {
        # the theorem itself first: not a candidate, so Nat.add_zero is the top premise
        "⊢ double 0 = 0": ["Arith.double_zero", "Nat.add_zero", "Nat.le_refl"],
        "l : List Nat\n⊢ l.reverse.reverse = l": ["Nat.le_refl", "List.reverse_reverse"],
        "n : Nat\n⊢ n * 1 = n": ["Nat.mul_one"],
    }
    got = recall_at(TableRetriever(table), index, examples, ks=(1, 10))
    # double_zero: 1 of 2 positives at top 1 and top 10; rev_rev: 0 then 1; m1: 1 and 1
    assert got["recall1"] == (0.5 + 0 + 1) / 3
    assert got["recall10"] == (0.5 + 1 + 1) / 3
    assert got["tactics"] == 3 and got["skipped"] == 0
    assert got["coverage"] == 4 / 5  # "Not.in_index" is no candidate


def test_bm25_ranks_the_premise_sharing_the_goals_words_first(tmp_path):
    index = dataset_index(write_dataset(tmp_path), LIBRARY)
    premises = [*index.library, *(p for ps in index.files.values() for p in ps)]
    bm25 = BM25Retriever(premises)
    ex = {e.theorem: e for e in retrieval_examples(tmp_path, "test")}
    allowed = candidates(index, ex["Lists.rev_rev"])
    ranked = bm25.rank("l : List Nat\n⊢ l.reverse.reverse = l", allowed, 3)
    assert ranked[0].name == "List.reverse_reverse"
    allowed = candidates(index, ex["Arith.double_zero"])
    top = [p.name for p in bm25.rank("⊢ double 0 = 0", allowed, 100)]
    assert set(top[:2]) == {"Arith.double", "Nat.add_zero"}  # both positives first
    assert "Arith.double_zero" not in top and len(top) == len(allowed)
    assert recall_at(bm25, index, list(ex.values()))["recall10"] > 0


def test_premise_words_split_names_and_keep_symbols():
    words = premise_words("List.length_append : (as ++ bs).length = as.length")
    assert {"list.length_append", "list", "length", "append", "=", "+"} <= set(words)


def test_header_premises_are_the_files_declarations_before_the_theorem():
    header = (
        "namespace A\n\ndef twice (n : Nat) : Nat := 2 * n\n\n"
        "theorem twice_zero : twice 0 = 0 := by\n  simp [twice]\n\nend A\n"
    )
    got = header_premises(header)
    assert [p.name for p in got] == ["A.twice", "A.twice_zero"]
    assert got[1].text == "theorem twice_zero : twice 0 = 0"


def core_theorem():
    return {
        "full_name": "leancot_core_Nat_add_comm",
        "statement": "theorem leancot_core_Nat_add_comm : ∀ (n m : Nat), n + m = m + n",
        "header": "namespace A\ntheorem add_comm' (n m : Nat) : n + m = m + n := by omega\nend A\n",
        "split": "test",
        "source": "core:Nat.add_comm",
    }


def source_for(theorem, k=20):
    index = PremiseIndex(list(LIBRARY))
    docs = [*LIBRARY, *header_premises(theorem["header"])]
    return PremiseSource(BM25Retriever(docs), index, k=k)


def test_premise_tactics_never_offer_a_banned_name():
    theorem = core_theorem()
    assert banned_names(theorem) == {"leancot_core_Nat_add_comm", "Nat.add_comm"}
    tactics = bind_theorem(PremiseTactics(source_for(theorem)), theorem)
    state = "n m : Nat\n⊢ n + m = m + n"
    proposed = [c.tactic for c in tactics.propose([state], 200)[0]]
    assert not any("Nat.add_comm" in t for t in proposed)
    assert {"exact A.add_comm'", "rw [A.add_comm']", "simp [A.add_comm']"} <= set(proposed)
    assert {"apply Nat.mul_comm", "simp_all [Nat.mul_comm]"} <= set(proposed)
    # the header's own theorem, when it is the theorem searched, is not offered either
    own = {**theorem, "full_name": "A.add_comm'", "source": "bundled"}
    bound = bind_theorem(PremiseTactics(source_for(own)), own)
    proposed = [c.tactic for c in bound.propose([state], 200)[0]]
    assert not any("add_comm'" in t for t in proposed) and "exact Nat.add_comm" in proposed
    assert PremiseTactics(source_for(own)).propose([state], 10) == [[]]  # unbound: nothing


def test_retrieved_premises_reach_the_prompt_and_the_old_prompt_stays_without():
    assert format_state_prompt("⊢ p") == "⊢ p\n"
    assert format_state_prompt("⊢ p", ["a : b\n c"]) == "-- premise: a : b c\n⊢ p\n"
    theorem = core_theorem()
    model = RecordingPolicy()
    policy = mixture(model, premises=source_for(theorem, k=2), goal_tactics=False)
    bound = bind_theorem(policy, theorem)
    cands = bound.propose(["n m : Nat\n⊢ n + m = m + n"], 2)[0]
    prompt = model.prompts[-1]
    assert prompt.count("-- premise: ") == 2 and "Nat.add_comm :" not in prompt
    assert prompt.endswith("n m : Nat\n⊢ n + m = m + n\n")
    tactics = [c.tactic for c in cands]
    assert any(t.startswith("exact ") for t in tactics)  # premise tactics in the mixture,
    first = next(i for i, t in enumerate(tactics) if "A.add_comm'" in t)
    assert "omega" in tactics[:first] and "rfl" in tactics[:first]  # after the portfolio's
    plain = RecordingPolicy()
    mixture(plain, goal_tactics=False).propose(["⊢ p"], 1)
    assert plain.prompts == ["⊢ p\n"]


def test_library_filters_and_cache_round_trip(tmp_path):
    from leancot.prover.premises import PremiseCache

    assert usable_constant({"name": "Nat.add_comm"})
    assert not usable_constant({"name": "Nat.add_comm.eq_1"})
    assert not usable_constant({"name": "_private.Init.x"})
    assert not usable_constant({"name": "propext"})
    cache = PremiseCache(tmp_path / "p.jsonl")
    cache.add([{"name": "a", "kind": "theorem", "module": "Init", "type": "True"},
               {"name": "b", "kind": "theorem", "module": "Init", "type": None}])  # fmt: skip
    with (tmp_path / "p.jsonl").open("a") as f:
        f.write('{"name": "c", "ty')  # an interrupted append
    assert read_library(tmp_path / "p.jsonl") == [Premise("a", "a : True", "theorem", "", "Init")]


def test_evaluate_retriever_from_the_command_line(tmp_path, capsys):
    import json

    from leancot import cli
    from leancot.prover.premises import PremiseCache

    dataset = write_dataset(tmp_path)
    cache = PremiseCache(tmp_path / "library.jsonl")
    cache.add({"name": p.name, "kind": p.kind, "module": "", "type": p.text.split(" : ", 1)[1]}
              for p in LIBRARY)  # fmt: skip
    report = tmp_path / "report.json"
    argv = ["evaluate", str(dataset), "--retriever", "bm25", "--library", str(cache.path),
            "--split", "test", "--output", str(report)]  # fmt: skip
    assert cli.main(argv) == 0
    assert "bm25 recall@1=" in capsys.readouterr().out
    got = json.loads(report.read_text())["retrieval"]
    assert got["tactics"] == 3 and got["premises"] == len(LIBRARY) + 6
    assert got["bm25_recall10"] == 1.0  # every positive among the top 10 of 12-16 candidates


def test_a_premise_sharing_the_banned_lemmas_last_component_is_not_offered():
    from leancot.models.premises import is_banned

    index = PremiseIndex(
        [*LIBRARY, Premise("Int.add_comm", "Int.add_comm : ∀ (a b : Int), a + b = b + a")]
    )
    allowed = {p.name for p in index.allowed(header="", banned=banned_names(core_theorem()))}
    assert "Nat.add_comm" not in allowed and "Int.add_comm" not in allowed  # the verifier's rule
    assert "Nat.mul_comm" in allowed
    assert is_banned("add_comm", ["Nat.add_comm"]) and not is_banned("add_comm'", ["Nat.add_comm"])


def test_frequency_baseline_ranks_train_premises_first_then_bm25(tmp_path):
    from leancot.train.retriever_eval import FrequencyRetriever

    index = dataset_index(write_dataset(tmp_path), LIBRARY)
    premises = [*index.library, *(p for ps in index.files.values() for p in ps)]
    baseline = FrequencyRetriever(retrieval_examples(tmp_path, "train"), BM25Retriever(premises))
    ex = {e.theorem: e for e in retrieval_examples(tmp_path, "test")}["Arith.m1"]
    ranked = [p.name for p in baseline.rank(ex.state, candidates(index, ex), 4)]
    # named once each in train (Lists.twice is another file's): those three, then BM25's best
    assert set(ranked[:3]) == {"Arith.double", "Nat.add_comm", "List.length_append"}
    assert ranked[3] == "Nat.mul_one"


def test_printed_types_accept_the_shorter_names_lean_prints():
    from leancot.prover.premises import printed_type

    assert printed_type("Nat.add_comm", "Nat.add_comm : ∀ (n m : Nat), n + m = m + n").startswith(
        "∀"
    )
    assert printed_type("Bool.true", "true : Bool") == "Bool"  # an exported constructor
    assert printed_type("Option.some", "@some : {α : Type u_1} → α → Option α").endswith("Option α")
    assert printed_type("Bool.true", "false : Bool") is None
    assert printed_type("Bool.true", "Bool.true : Bool\nsome other text") is not None


CORE_ROOT = (
    "⊢ ∀ {α : Type u_1} {β : α → Type u_2} [inst : BEq α] [LawfulBEq α] {l : List α} {k : α},\n"
    "    List.lookup k (List.insert k l) = some k"
)


def test_the_bm25_query_is_the_goals_constants_without_type_instance_or_variable_names():
    from leancot.prover.retrieval import premise_query

    query = premise_query(CORE_ROOT)
    assert "BEq" not in query and "Type" not in query and "LawfulBEq" not in query
    assert "List.lookup" in query and "List.insert" in query and "some" in query
    assert not {"k", "l"} & set(query.replace("(", " ").replace(")", " ").split())
    # a field access on a bound variable keeps the field; a propositional hypothesis stays
    state = "x y : Nat\ninst : BEq Nat\nh : x ≤ y\n⊢ min x.pred y.pred = (min x y).pred"
    assert [line.split() for line in premise_query(state).split("\n")] == [
        ["≤"],
        ["min", "pred", "pred", "=", "(min", ").pred"],
    ]
    assert premise_query("no goal here") == "no goal here"


def test_bm25_with_the_goal_query_ranks_fewer_premises_about_the_binders_classes():
    from leancot.prover.retrieval import TheoremPremises

    root = (
        "⊢ ∀ {α : Type u_1} {cmp : α → α → Ordering} [inst : Std.TransCmp cmp]\n"
        "    {t : Std.TreeMap α Nat cmp} {k : α}, t.getD k 0 = (t.get? k).getD 0"
    )
    lemma = Premise("Std.TreeMap.getD_eq_getD_get?", "Std.TreeMap.getD_eq_getD_get? : ∀ "
                    "{m : Std.TreeMap α β} {a : α} {fallback : β}, m.getD a fallback = "
                    "(m.get? a).getD fallback", "axiom")  # fmt: skip
    classes = [
        Premise(
            f"Std.TransCmp.c{i}",
            f"Std.TransCmp.c{i} : ∀ {{α : Type u_1}} {{cmp : α → α → "
            "Ordering}} [Std.TransCmp cmp] {a b c : α}, cmp a b = Ordering.eq → cmp a c = "
            "cmp b c",
            "axiom",
        )  # fmt: skip
        for i in range(4)
    ]
    docs = [lemma, *classes, *LIBRARY]
    ranked = TheoremPremises(BM25Retriever(docs), docs, k=3).top(root)
    raw = TheoremPremises(BM25Retriever(docs), docs, k=3, query=lambda s: s).top(root)
    assert ranked[0] == raw[0] == lemma
    count = lambda ps: sum(p in classes for p in ps)  # noqa: E731
    assert count(ranked) == 1 and count(raw) == 2  # the binders' words pull the classes in


def test_premise_tactics_use_lemmas_only_and_introduce_a_bound_goal_first():
    from leancot.prover.retrieval import PremiseTactics, TheoremPremises

    lemma = Premise("List.lookup_insert", "List.lookup_insert : List.lookup k (List.insert k l)",
                    "axiom")  # fmt: skip
    definition = Premise("List.insert", "List.insert : α → List α → List α", "definition")
    table = TableRetriever({CORE_ROOT: ["List.insert", "List.lookup_insert"]})
    bound = PremiseTactics(None, TheoremPremises(table, [lemma, definition], k=2))
    tactics = bound.tactics_for(CORE_ROOT)
    assert tactics and all(t.startswith("(intros; ") and "List.lookup_insert" in t for t in tactics)
    assert tactics[:2] == [
        "(intros; simp only [List.lookup_insert])",  # every lemma in one call first
        "(intros; simp [List.lookup_insert])",
    ]
    assert "(intros; rw [List.lookup_insert])" in tactics
    table.table[CORE_ROOT] = ["List.lookup_insert", "List.lookup_insert_2"]
    second = Premise("List.lookup_insert_2", "List.lookup_insert_2 : x", "theorem")
    bound = PremiseTactics(None, TheoremPremises(table, [lemma, second, definition], k=2))
    bag = "[List.lookup_insert, List.lookup_insert_2]"
    assert bound.tactics_for(CORE_ROOT)[:3] == [
        f"(intros; simp only {bag})",
        f"(intros; simp {bag})",
        "(intros; rw [List.lookup_insert])",
    ]
    state = "l : List Nat\n⊢ List.lookup 0 (List.insert 0 l) = some 0"
    table.table[state] = ["List.lookup_insert"]
    assert "rw [List.lookup_insert]" in bound.tactics_for(state)


def test_heuristic_with_a_retriever_tries_its_own_tactics_then_premise_tactics():
    from leancot.prover.config import SearchConfig
    from leancot.prover.mixture import search_setup

    theorem = core_theorem()
    plain, _, _ = search_setup("heuristic", SearchConfig(baseline_n=32))
    policy, value, kwargs = search_setup(
        "heuristic", SearchConfig(baseline_n=32, premise_n=3), premises=source_for(theorem)
    )
    assert value is None and kwargs == {"num_candidates": 32}
    state = "n m : Nat\n⊢ n + m = m + n"
    own = [c.tactic for c in plain.propose([state], 32)[0]]
    got = [c.tactic for c in bind_theorem(policy, theorem).propose([state], 32)[0]]
    assert got[: len(own)] == own and len(got) == len(own) + 3  # then 3 premise tactics
    assert not any("Nat.add_comm" in t for t in got)  # the restated lemma never


def test_prove_retrieves_for_heuristic_and_the_learned_methods_never_for_baseline():
    from dataclasses import replace

    from leancot.pipeline.config import ProveConfig
    from leancot.pipeline.prove import needs_lean_to_load, retrieves_premises
    from leancot.prover.config import SearchConfig

    bm25 = SearchConfig(retriever="bm25")
    for method, expected in (("baseline", False), ("heuristic", True), ("mcts_prm", True)):
        config = ProveConfig(method=method, search=bm25)
        assert retrieves_premises(config) is expected
        assert needs_lean_to_load(config) is expected  # the library premises come from Lean
        assert not retrieves_premises(replace(config, search=SearchConfig()))
