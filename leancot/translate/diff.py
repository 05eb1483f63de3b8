"""What a tactic did to the goals: the difference between the states before and after it.

Goals are matched before -> after: an identical goal is untouched; then goals with the same case
tag; then, when as many goals remain on each side, by position. A lone unmatched goal before (the
main goal, usually) with several unmatched goals after was split into them; with none, closed.
"""

from __future__ import annotations

from dataclasses import dataclass

from leancot.translate.goals import Goal, GoalState, Hypothesis


@dataclass(frozen=True)
class HypChange:
    """A hypothesis whose type (or let value) changed; it keeps its name."""

    name: str
    before: str
    after: str


@dataclass(frozen=True)
class GoalDiff:
    """One goal and what became of it (or, for a new goal, how it differs from its parent)."""

    before: Goal
    after: Goal
    introduced: tuple[Hypothesis, ...]
    removed: tuple[Hypothesis, ...]
    changed: tuple[HypChange, ...]

    @property
    def case(self) -> str | None:
        return self.after.case

    @property
    def target_changed(self) -> bool:
        return " ".join(self.before.target.split()) != " ".join(self.after.target.split())

    @property
    def context_changed(self) -> bool:
        return bool(self.introduced or self.removed or self.changed)

    @property
    def unchanged(self) -> bool:
        return not (self.target_changed or self.context_changed)


@dataclass(frozen=True)
class StateDiff:
    """The effect of one tactic.

    main: the main goal before and its successor, when it has exactly one.
    closed: goals before with no successor (the main goal when it was solved or split).
    created: goals after that continue no goal before, each diffed against the main goal before.
    untouched: how many goals came through identical.
    successors: what the main goal turned into (its successor and the created goals), in the
        order of the goals after; a case split reads best from these, since a new case may
        happen to share the old goal's tag.
    """

    before: GoalState
    after: GoalState
    main: GoalDiff | None
    closed: tuple[Goal, ...]
    created: tuple[GoalDiff, ...]
    untouched: int
    successors: tuple[GoalDiff, ...] = ()

    @property
    def finished(self) -> bool:
        """The proof is complete: no goals remain."""
        return self.after.finished

    @property
    def main_closed(self) -> bool:
        return self.before.main is not None and self.main is None

    @property
    def split(self) -> bool:
        """The main goal was replaced by several new goals."""
        return self.main_closed and len(self.created) >= 2

    @property
    def no_effect(self) -> bool:
        return not self.closed and not self.created and (self.main is None or self.main.unchanged)


def diff_goals(before: Goal, after: Goal) -> GoalDiff:
    """Hypotheses introduced, removed and changed (by name), from `before` to `after`."""
    old = _types(before)
    new = _types(after)
    introduced = _select(after, lambda n: n not in old)
    removed = _select(before, lambda n: n not in new)
    changed = tuple(
        HypChange(name, old[name], new[name])
        for name in dict.fromkeys(after.names)
        if name in old and _norm(old[name]) != _norm(new[name])
    )
    return GoalDiff(before, after, introduced, removed, changed)


def diff_states(before: GoalState, after: GoalState) -> StateDiff:
    """Match goals before and after (identical, case tag, position) and diff each pair."""
    b_left = list(range(len(before.goals)))
    a_left = list(range(len(after.goals)))
    pairs: list[tuple[int, int]] = []
    untouched = 0
    for i in list(b_left):  # identical goals
        for j in a_left:
            if before.goals[i] == after.goals[j]:
                pairs.append((i, j))
                b_left.remove(i)
                a_left.remove(j)
                untouched += 1
                break
    for i in list(b_left):  # same case tag, when the tag is unique on both sides
        case = before.goals[i].case
        if case is None:
            continue
        same = [j for j in a_left if after.goals[j].case == case]
        if len(same) == 1 and sum(before.goals[k].case == case for k in b_left) == 1:
            pairs.append((i, same[0]))
            b_left.remove(i)
            a_left.remove(same[0])
    if len(b_left) == len(a_left):  # by position
        pairs += zip(b_left, a_left, strict=True)
        b_left, a_left = [], []
    main_j = next((j for i, j in pairs if i == 0), None)
    main = diff_goals(before.goals[0], after.goals[main_j]) if main_j is not None else None
    parent = before.main
    created = tuple(diff_goals(parent or after.goals[j], after.goals[j]) for j in a_left)
    closed = tuple(before.goals[i] for i in b_left)
    order = sorted(
        a_left + ([main_j] if main_j is not None and main and not main.unchanged else [])
    )
    by_index = dict(zip(a_left, created, strict=True))
    if main_j is not None and main is not None:
        by_index[main_j] = main
    successors = tuple(by_index[j] for j in order)
    return StateDiff(before, after, main, closed, created, untouched, successors)


def _norm(text: str) -> str:
    return " ".join(text.split())


def _types(goal: Goal) -> dict[str, str]:
    out: dict[str, str] = {}
    for hyp in goal.hypotheses:
        text = hyp.type if hyp.value is None else f"{hyp.type} := {hyp.value}"
        for name in hyp.names:
            out[name] = text
    return out


def _select(goal: Goal, keep) -> tuple[Hypothesis, ...]:
    """The hypotheses of `goal` restricted to the names `keep` accepts (lines kept grouped)."""
    out = []
    for hyp in goal.hypotheses:
        names = tuple(n for n in hyp.names if keep(n))
        if names:
            out.append(hyp if names == hyp.names else Hypothesis(names, hyp.type, hyp.value))
    return tuple(out)
