"""`leancot train value`: a few real training steps of the outcome value on real search logs
(tests/data/value_search_logs.jsonl), the folder read back as a value by the searches."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from leancot.train import value as value_train

LOGS = Path(__file__).parent.parent / "data" / "value_search_logs.jsonl"


@pytest.fixture(scope="module")
def value_run(tmp_path_factory, quick):
    out = tmp_path_factory.mktemp("value")
    config = value_train.ValueTrainConfig(
        **quick(data=[str(LOGS)], output_dir=str(out / "model"), holdout=0.0, gamma=0.5)
    )
    return config, value_train.main(config)


def test_rows_follow_the_outcomes_and_negatives_are_capped(value_run):
    config, result = value_run
    meta = json.loads(Path(result.metadata_path).read_text(encoding="utf-8"))
    assert meta["kind"] == "value" and meta["config"]["gamma"] == 0.5
    assert meta["metrics"]["global_step"] == 6
    assert math.isfinite(meta["metrics"]["last_logged_loss"])
    rows = [json.loads(x) for x in Path(meta["rows"]["train"]["path"]).read_text().splitlines()]
    labels = sorted({r["labels"][0] for r in rows})
    assert labels == [0.0, 0.5, 1.0]  # the closing steps, one step before them, negatives
    positives = sum(r["labels"][0] > 0 for r in rows)
    assert len(rows) - positives <= config.max_negatives * positives


def test_training_steps_move_the_loss(tmp_path, quick):
    config = value_train.ValueTrainConfig(
        **quick(
            data=[str(LOGS)],
            output_dir=str(tmp_path / "m"),
            max_steps=30,
            holdout=0.0,
            logging_steps=1,
            learning_rate=3e-3,
        )  # fmt: skip
    )
    history = value_train.main(config).metrics
    meta = json.loads((tmp_path / "m" / "leancot_train.json").read_text(encoding="utf-8"))
    assert history["global_step"] == 30
    assert meta["metrics"]["train_loss"] > meta["metrics"]["last_logged_loss"]


def test_the_trained_folder_is_a_value_for_the_searches(value_run):
    from leancot.models.hf import HFPRM
    from leancot.prover import Budget, ScriptedEnv, ScriptedPolicy, mcts_search
    from leancot.prover.outcome_value import VALUE_KIND, OutcomeValue, model_kind

    _, result = value_run
    assert model_kind(result.model_dir) == VALUE_KIND
    value = OutcomeValue(HFPRM(str(result.model_dir)))
    scores = value.value_steps(
        "x : UInt8\n⊢ x.toUInt16.toNat = x.toNat", [("", "rfl"), ("", "omega")]
    )
    assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
    env = ScriptedEnv({"⊢ R": {"intro": "⊢ G"}, "⊢ G": {"rfl": "no goals"}}, "⊢ R")
    policy = ScriptedPolicy({"⊢ R": ["bad", "intro"], "⊢ G": ["rfl"]})
    found = mcts_search(env, "t", policy=policy, value=value, step_values=True,
                        budget=Budget(max_lean_calls=20))  # fmt: skip
    assert found.proof == ["intro", "rfl"]
    assert value.calls >= 2  # scored the root's steps and the new state's
    assert 0.0 <= found.graph.find("⊢ G").prior_value <= 1.0
