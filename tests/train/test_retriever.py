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
