"""The PRM trainer's loss against values computed by hand (plain `math`, no torch), and its
checkpoints and resume."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from leancot.models.prompts import STEP_SEPARATOR

IGNORE = -100
ROWS = [
    {
        "prompt": "n : ℕ\n⊢ n + 0 = n\n",
        "completions": ["Simp.\nsimp", "Done.\nrfl"],
        "labels": [True, False],
    },
    {"prompt": "⊢ p → p\n", "completions": ["Assume.\nintro h"], "labels": [True]},
    {
        "prompt": "a b : ℕ\n⊢ a + b = b + a\n",
        "completions": ["Commute.\nomega", "Ring.\nring", "Close.\nrfl"],
        "labels": [False, True, True],
    },
]
SOFT = [[0.75, 0.0], [1.0], [0.25, 0.5, 1.0]]


def _log_softmax(pair: list[float]) -> list[float]:
    top = max(pair)
    norm = top + math.log(sum(math.exp(x - top) for x in pair))
    return [x - norm for x in pair]


def _hand_loss(logits: list[list[float]], targets: list[float], soft: bool) -> float:
    """Mean over labelled tokens of -log q[label] (hard) or -(p log q1 + (1-p) log q0)."""
    total = 0.0
    for pair, target in zip(logits, targets, strict=True):
        bad, good = _log_softmax(pair)
        if soft:
            total -= target * good + (1 - target) * bad
        else:
            total -= good if target else bad
    return total / len(targets)


@pytest.mark.parametrize("soft", [False, True])
def test_step_label_loss_on_fixed_logits(soft):
    import torch

    from leancot.train.prm import step_label_loss

    logits = [[[0.3, -1.2], [2.0, 0.5], [-0.7, 0.4]], [[1.5, 1.5], [0.1, -3.0], [9.0, 0.0]]]
    labels = [[IGNORE, 1, 0], [0, IGNORE, IGNORE]]
    if soft:
        labels = [[IGNORE, 0.8, 0.1], [0.5, IGNORE, IGNORE]]
    picked = [(0, 1), (0, 2), (1, 0)]
    expected = _hand_loss(
        [logits[b][t] for b, t in picked], [labels[b][t] for b, t in picked], soft
    )
    dtype = torch.float32 if soft else torch.int64
    args = torch.tensor(logits, dtype=torch.float64), torch.tensor(labels, dtype=dtype)
    loss = step_label_loss(*args, soft=soft)
    assert abs(loss.item() - expected) <= 1e-6
    # over an accumulated batch of 6 label tokens, this batch's sum counts for half as much
    half = step_label_loss(*args, soft=soft, num_items_in_batch=6)
    assert abs(half.item() - expected / 2) <= 1e-6
    none = torch.full((1, 3), IGNORE, dtype=dtype)
    empty = step_label_loss(torch.zeros(1, 3, 2, requires_grad=True), none, soft=soft)
    assert empty.item() == 0.0 and empty.requires_grad


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from leancot.models.hf import load_tokenizer
    from leancot.train.model import train_tokenizer

    out = tmp_path_factory.mktemp("tok")
    texts = [r["prompt"] + STEP_SEPARATOR.join(r["completions"]) for r in ROWS] * 20
    train_tokenizer(texts, out, vocab_size=300)
    return load_tokenizer(out)


def _hand_tokenize(tokenizer, row):
    """TRL's stepwise layout spelled out: BOS, prompt, then each step + separator, the step's
    label on the separator's last token."""
    ids = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    ids += tokenizer(row["prompt"], add_special_tokens=False)["input_ids"]
    positions = []
    for step in row["completions"]:
        ids += tokenizer(step + STEP_SEPARATOR, add_special_tokens=False)["input_ids"]
        positions.append(len(ids) - 1)
    return ids, positions


@pytest.mark.parametrize("soft", [False, True])
def test_trainer_loss_equals_hand_computed(tokenizer, tmp_path, soft):
    """The Trainer's loss on a padded batch of the fixture rows equals the mean of per-token
    cross-entropies computed by hand from each row's own (unpadded) logits."""
    import torch

    from leancot.train.model import build_tiny_token_classifier
    from leancot.train.prm import PRMTrainConfig, build_trainer, rows_dataset, tokenize_prm_dataset

    torch.manual_seed(0)
    rows = [{**r, "labels": s} for r, s in zip(ROWS, SOFT, strict=True)] if soft else ROWS
    config = PRMTrainConfig(
        data=["unused"], output_dir=str(tmp_path), soft_labels=soft, max_steps=1, progress=False
    )
    model = build_tiny_token_classifier(tokenizer, seed=3)
    data = tokenize_prm_dataset(rows_dataset(rows, soft), tokenizer, max_length=512, soft=soft)
    trainer = build_trainer(config, model, tokenizer, data)
    batch = trainer.data_collator([data[i] for i in range(len(rows))])
    model.eval()
    with torch.no_grad():
        loss = trainer.compute_loss(model, dict(batch)).item()
        picked_logits, targets = [], []
        for row in rows:
            ids, positions = _hand_tokenize(tokenizer, row)
            assert data[rows.index(row)]["input_ids"] == ids
            logits = model(input_ids=torch.tensor([ids])).logits[0]
            picked_logits += [logits[p].double().tolist() for p in positions]
            targets += [float(x) for x in row["labels"]]
    assert len(targets) == 6
    assert abs(loss - _hand_loss(picked_logits, targets, soft)) <= 1e-6


@pytest.mark.slow
def test_prm_resume_after_crash(corpus_dir, tmp_path, quick):
    from transformers import AutoModelForTokenClassification, TrainerCallback

    from leancot.train import prm

    class Crash(Exception):
        pass

    class CrashAt3(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            if state.global_step == 3:
                raise Crash("killed")

    config = prm.PRMTrainConfig(
        data=[str(corpus_dir)],
        output_dir=str(tmp_path / "prm"),
        eval_split=None,
        **quick(max_steps=5, save_steps=2),
    )
    with pytest.raises(Crash):
        prm.main(config, callbacks=[CrashAt3()])
    run = Path(config.output_dir)
    assert (run / "checkpoint-2" / "trainer_state.json").is_file()
    assert not (run / "leancot_train.json").exists()
    result = prm.main(config)
    assert result.resumed_from == str(run / "checkpoint-2")
    meta = json.loads(Path(result.metadata_path).read_text())
    assert meta["metrics"]["global_step"] == 5 and meta["kind"] == "prm"
    model = AutoModelForTokenClassification.from_pretrained(run)
    assert model.config.num_labels == 2 and model.config.id2label == {0: "bad", 1: "good"}
