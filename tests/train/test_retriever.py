"""The dense premise retriever: real contrastive training steps on the tiny encoder (built from
a config), checkpoints and resume, the saved retriever reloaded, and its recall."""

from __future__ import annotations

import json

from retrieval_corpus import LIBRARY, write_dataset

from leancot.train.retriever import DenseRetriever, RetrieverConfig, index_premises, main
from leancot.train.retriever_data import dataset_index, retrieval_examples
from leancot.train.retriever_eval import recall_at, retrieval_recalls


def small_spec_config(tmp_path, **kw):
    return RetrieverConfig(
        data=[str(tmp_path / "ds")],
        output_dir=str(tmp_path / "run"),
        vocab_size=400,
        save_steps=20,
        logging_steps=5,
        progress=False,
        **kw,
    )


def test_dense_retriever_trains_saves_and_learns_its_training_premises(tmp_path):
    (tmp_path / "ds").mkdir()
    dataset = write_dataset(tmp_path / "ds")
    config = small_spec_config(tmp_path, max_steps=40, learning_rate=2e-3)
    result = main(config, library=LIBRARY)
    run = tmp_path / "run"
    assert result.metrics["global_step"] == 40
    assert (run / "checkpoint-40" / "trainer_state.json").is_file()
    assert json.loads((run / "leancot_retriever.json").read_text())["kind"] == "dense"
    meta = json.loads((run / "leancot_train.json").read_text())
    assert meta["kind"] == "retriever" and set(meta["metrics"]["eval"]) >= {"recall1", "recall10"}
    history = json.loads((run / "checkpoint-40" / "trainer_state.json").read_text())["log_history"]
    losses = [h["loss"] for h in history if "loss" in h]
    assert losses[-1] < losses[0]  # real optimisation steps

    index = dataset_index(dataset, LIBRARY)
    trained = DenseRetriever.load(run, index_premises(index))
    train_examples = retrieval_examples(dataset, "train")
    assert recall_at(trained, index, train_examples)["recall1"] == 1.0  # it fits its train data

    report = retrieval_recalls(dataset, LIBRARY, run, split="test")
    assert 0 <= report["retriever_recall10"] <= 1 and report["tactics"] == 3
    assert report["bm25_recall10"] > 0


def test_dense_retriever_resumes_from_its_checkpoint(tmp_path):
    (tmp_path / "ds").mkdir()
    write_dataset(tmp_path / "ds")
    main(small_spec_config(tmp_path, max_steps=20), library=LIBRARY)
    again = main(small_spec_config(tmp_path, max_steps=25), library=LIBRARY)
    assert again.resumed_from is not None and again.resumed_from.endswith("checkpoint-20")
    assert again.metrics["global_step"] == 25


def test_added_premises_rank_as_in_a_fresh_load(tmp_path):
    (tmp_path / "ds").mkdir()
    dataset = write_dataset(tmp_path / "ds")
    main(small_spec_config(tmp_path, max_steps=5), library=LIBRARY)
    premises = index_premises(dataset_index(dataset, LIBRARY))
    fresh = DenseRetriever.load(tmp_path / "run", premises)
    grown = DenseRetriever.load(tmp_path / "run", premises[:4])
    grown.add(premises)
    grown.add(premises[:2])  # nothing new
    assert len(grown.premises) == len(fresh.premises) == len(premises)
    for state in ("⊢ double 0 = 0", "l : List Nat\n⊢ l.reverse.reverse = l"):
        assert [p.name for p in grown.rank(state, premises, 5)] == [
            p.name for p in fresh.rank(state, premises, 5)
        ]
        scores = fresh.scores(state, premises)
        order = sorted(range(len(premises)), key=lambda i: -scores[i])[:5]
        assert [p.name for p in fresh.rank(state, premises, 5)] == [premises[i].name for i in order]


def test_the_run_retriever_stage_trains_and_the_policy_trains_on_the_provers_prompts(
    tmp_path, monkeypatch
):
    """The `retriever` stage of `leancot run`: real retriever steps, then step records with what
    it retrieves; the policy stage trains on them, and each training prompt is the prompt the
    learned search gives the policy at that state (the run's own premise source)."""
    from retrieval_corpus import TACTICS

    from leancot.files import read_jsonl, write_jsonl
    from leancot.formats import RETRIEVED_PREMISES, STEPS_FILE
    from leancot.models.prompts import PREMISE_LINE
    from leancot.models.scoring import Completion, PolicyBase
    from leancot.pipeline import steps
    from leancot.pipeline.config import RunConfig
    from leancot.prover.mixture import mixture
    from leancot.prover.policies import bind_theorem
    from leancot.train.rows import sft_rows

    extract = tmp_path / "extract"
    (extract / steps.DATASET).mkdir(parents=True)
    write_dataset(extract / steps.DATASET)
    header = "namespace Arith\ndef double (n : Nat) : Nat := n + n\nend Arith\n"
    theorems = {
        name: {"full_name": name, "statement": f"theorem {name} : True", "split": split,
               "header": header if path == "Arith.lean" else "", "source": "bundled"}
        for split, path, name, _, _ in TACTICS
    }  # fmt: skip
    monkeypatch.setattr(steps, "corpus_theorems", lambda *a: list(theorems.values()))
    records = [
        {"id": f"r{i}", "full_name": name, "split": split, "step": i, "depth": 0,
         "state_before": state, "tactic": "simp", "thought": "We simplify.", "verified": True}
        for i, (split, _, name, state, _) in enumerate(TACTICS)
    ]  # fmt: skip
    write_jsonl(tmp_path / "cot" / STEPS_FILE, records)
    config = RunConfig(
        run_dir=tmp_path, retriever_steps=4, sft_steps=2, batch_size=4, progress=False
    )
    d = tmp_path / "retriever"
    premises = steps.RunPremises(str(d), extract, tmp_path, None, 3, library=LIBRARY)
    out = steps.retriever(d, extract, tmp_path / "cot", premises, config, lambda m: None)
    assert out["trained"] and out["metrics"]["global_step"] == 4 and out["step_records"] == 8
    assert (d / "leancot_retriever.json").is_file() and out["premises_per_state"] == 3

    annotated = read_jsonl(d / STEPS_FILE)
    assert [len(r[RETRIEVED_PREMISES]) for r in annotated] == [3] * 8
    for rec in annotated:  # retrieved among what the theorem may use, from its state alone
        allowed = premises.source().for_theorem(theorems[rec["full_name"]]).allowed
        assert set(rec[RETRIEVED_PREMISES]) <= {p.text for p in allowed}
    prompts = {}

    class Recording(PolicyBase):
        def generate(self, batch, params):
            prompts[batch[0]] = True
            return [[Completion("t\nsimp", -1.0)] for _ in batch]

    for row, rec in zip(sft_rows(annotated, split=None), annotated, strict=True):
        prompts.clear()
        policy = bind_theorem(mixture(Recording(), premises=premises.source()), theorems[
            rec["full_name"]])  # fmt: skip
        policy.propose([rec["state_before"]], 1)
        assert list(prompts) == [row["prompt"]] and row["prompt"].count(PREMISE_LINE) == 3

    result = steps.train_policy(tmp_path / "policy", d / STEPS_FILE, config)
    assert result["metrics"]["global_step"] == 2
    trained_on = read_jsonl(tmp_path / "policy" / "rows" / "train.jsonl")
    assert trained_on and all(r["prompt"].startswith(PREMISE_LINE) for r in trained_on)
