"""Held-out evaluation of a PRM.

PRM: held-out candidates are single labelled steps `{"prompt", "completions", "label"}` (the
path to a state, the candidate step last: `rows.prm_candidates`, or Lean's verdicts on one
proposer's tactics at held-out states), from one source, accepted against rejected, so which
proposer wrote a step tells nothing about its label; their text is `rows.prm_step_text`, the same
for an accepted and a rejected tactic. `evaluate_prm` reports the AUROC of the PRM's probability
for the candidate step with a bootstrap 95% interval that resamples states (the candidates of one
state move together), the counts of positives and negatives, and the same for `SurfaceBaseline`,
a logistic regression fitted on the train candidates on surface features of the step (its length,
whether it has a thought, its tactic's first word, the tactic's acceptance rate on train), with
the paired interval of the PRM's margin over it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from leancot.models.prompts import normalize_tactic, parse_step

N_BOOTSTRAP = 1000


def _step_parts(candidate: Mapping[str, Any]) -> tuple[str, str, str]:
    text = candidate["completions"][-1]
    thought, tactic = parse_step(text)
    return text, thought, normalize_tactic(tactic)


def _family(tactic: str) -> str:
    return tactic.split()[0] if tactic else ""


def _state_key(candidate: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    return candidate["prompt"], tuple(candidate["completions"][:-1])


class SurfaceBaseline:
    """Logistic regression on surface features of a candidate step, fitted on train candidates:
    the step text's length, whether it has a thought, its tactic's first word (one-hot over the
    words seen in train) and the tactic's acceptance rate on train (smoothed towards the overall
    rate; leave-one-out on the train candidates themselves, so the fit cannot read its own
    label). Needs scikit-learn (the train extra)."""

    PRIOR = 1.0  # pseudo-count of the smoothing

    def __init__(self, train: Sequence[Mapping[str, Any]]) -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        labels = [int(bool(c["label"])) for c in train]
        if len(set(labels)) < 2:
            raise ValueError("the train candidates need both accepted and rejected steps")
        parts = [_step_parts(c) for c in train]
        self.rate = sum(labels) / len(labels)
        self.counts: Counter[str] = Counter()
        self.good: Counter[str] = Counter()
        for (_, _, tactic), y in zip(parts, labels, strict=True):
            self.counts[tactic] += 1
            self.good[tactic] += y
        self.families = sorted({_family(t) for _, _, t in parts})
        rows = [self._features(p, y) for p, y in zip(parts, labels, strict=True)]
        self.model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        self.model.fit(rows, labels)

    @property
    def feature_names(self) -> list[str]:
        return ["length", "has_thought", "tactic_acceptance"] + [
            f"family={f}" for f in self.families
        ]

    def _acceptance(self, tactic: str, own: int | None) -> float:
        n, k = self.counts[tactic], self.good[tactic]
        if own is not None:  # leave the candidate's own label out
            n, k = n - 1, k - own
        return (k + self.PRIOR * self.rate) / (n + self.PRIOR)

    def _features(self, parts: tuple[str, str, str], own: int | None = None) -> list[float]:
        text, thought, tactic = parts
        family = _family(tactic)
        onehot = [float(family == f) for f in self.families]
        return [float(len(text)), float(bool(thought)), self._acceptance(tactic, own), *onehot]

    def score(self, candidates: Sequence[Mapping[str, Any]]) -> list[float]:
        if not candidates:
            return []
        rows = [self._features(_step_parts(c)) for c in candidates]
        return [float(p) for p in self.model.predict_proba(rows)[:, 1]]


def auroc(labels: Sequence[int], scores: Sequence[float]) -> float | None:
    """Area under the ROC curve (ties count half); None without both classes."""
    import numpy as np
    from scipy.stats import rankdata

    y = np.asarray(labels, dtype=bool)
    pos, neg = int(y.sum()), int((~y).sum())
    if not pos or not neg:
        return None
    ranks = rankdata(np.asarray(scores, dtype=float))
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def bootstrap_intervals(
    groups: Sequence[Any],
    labels: Sequence[int],
    scores: Mapping[str, Sequence[float]],
    *,
    n_boot: int = N_BOOTSTRAP,
    seed: int = 0,
) -> dict[str, list[float] | None]:
    """95% percentile intervals of the AUROC of each named score, resampling whole groups
    (states) with replacement; with two scores also "margin", the first's AUROC minus the
    second's on the same resamples."""
    import numpy as np

    by_group: dict[Any, list[int]] = {}
    for i, g in enumerate(groups):
        by_group.setdefault(g, []).append(i)
    members = list(by_group.values())
    rng = np.random.default_rng(seed)
    y = np.asarray(labels, dtype=int)
    arrays = {name: np.asarray(s, dtype=float) for name, s in scores.items()}
    samples: dict[str, list[float]] = {name: [] for name in scores}
    names = list(scores)
    if len(names) == 2:
        samples["margin"] = []
    for _ in range(n_boot if members else 0):
        picked = rng.integers(0, len(members), len(members))
        idx = np.fromiter((i for g in picked for i in members[g]), dtype=int)
        values = {name: auroc(y[idx], a[idx]) for name, a in arrays.items()}
        for name, value in values.items():
            if value is not None:
                samples[name].append(value)
        if "margin" in samples and None not in values.values():
            samples["margin"].append(values[names[0]] - values[names[1]])

    def interval(xs: list[float]) -> list[float] | None:
        if len(xs) < n_boot // 2:  # most resamples lacked a class: no interval
            return None
        lo, hi = np.percentile(xs, [2.5, 97.5])
        return [round(float(lo), 4), round(float(hi), 4)]

    return {name: interval(xs) for name, xs in samples.items()}


@dataclass(frozen=True)
class PRMEval:
    num_candidates: int
    num_positive: int
    num_negative: int
    num_states: int
    auroc: float | None
    auroc_ci: list[float] | None
    fitted_baseline_auroc: float | None
    fitted_baseline_auroc_ci: list[float] | None
    margin_ci: list[float] | None  # PRM minus fitted baseline, paired resamples
    num_train_candidates: int
    baseline_features: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate_prm(
    prm: Any,
    candidates: Sequence[Mapping[str, Any]],
    *,
    train: Sequence[Mapping[str, Any]] = (),
    n_boot: int = N_BOOTSTRAP,
    seed: int = 0,
) -> PRMEval:
    """Score each held-out candidate's last step; the fitted baseline needs `train` candidates
    with both labels (else its fields are None). A step the PRM cannot score (NaN: cut off by
    its length limit) gets 0.5."""
    candidates = [c for c in candidates if c["completions"]]
    labels = [int(bool(c["label"])) for c in candidates]
    items = [(c["prompt"], list(c["completions"])) for c in candidates]
    raw = prm.score_batch(items) if items else []
    scores = [0.5 if not row or math.isnan(row[-1]) else float(row[-1]) for row in raw]
    named: dict[str, Sequence[float]] = {"prm": scores}
    baseline = None
    if train and len({bool(c["label"]) for c in train}) == 2:
        baseline = SurfaceBaseline(train)
        named["baseline"] = baseline.score(candidates)
    groups = [_state_key(c) for c in candidates]
    ci = bootstrap_intervals(groups, labels, named, n_boot=n_boot, seed=seed)
    return PRMEval(
        num_candidates=len(candidates),
        num_positive=sum(labels),
        num_negative=len(labels) - sum(labels),
        num_states=len(set(groups)),
        auroc=auroc(labels, scores),
        auroc_ci=ci["prm"],
        fitted_baseline_auroc=auroc(labels, named["baseline"]) if baseline else None,
        fitted_baseline_auroc_ci=ci.get("baseline"),
        margin_ci=ci.get("margin"),
        num_train_candidates=len(train),
        baseline_features=baseline.feature_names if baseline else [],
    )
