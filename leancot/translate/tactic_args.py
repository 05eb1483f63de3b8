"""What a family template reads about a step's tactic: rules, names, cases, terms, per family.

Each is read from the tactic text (tactic_text.py) against the main goal before the step.
`family_args` returns one dict per step with the same keys for every family (unused ones stay
empty), so templates can test any of them; `split_ih` tells induction hypotheses from new
variables in an induction case.
"""

from __future__ import annotations

import re
from typing import Any

from leancot.translate.diff import GoalDiff
from leancot.translate.goals import Goal, Hypothesis, head_connective, split_top_level
from leancot.translate.tactic_text import (
    GENERIC,
    alternatives,
    bracket_items,
    classify,
    close_of,
    find_outside,
    flat,
    head_part,
    locations,
    one_line,
    scrutinee,
    sequence,
    strip_brackets,
    unwrap,
)


def family_args(
    family: str, keyword: str, rest: str, tac: str, goal: Goal | None
) -> dict[str, Any]:
    """The template's `a`: what `tac` (keyword `keyword`, then `rest`) names, for `family`.

    `goal` is the main goal before the step; without it hypothesis types stay None.
    """
    a: dict[str, Any] = {
        "names": [],
        "rules": [],
        "locations": locations(rest),
        "only": rest.startswith("only"),
        "var": "",
        "var_type": None,
        "alts": [],
        "term": "",
        "head": "",
        "head_type": None,
        "name": "",
        "prop": "",
        "parts": [],
        "using": "",
        "steps": [],
        "witnesses": [],
        "arith_hyps": [],
        "arg_hyps": [],
        "star": False,
    }
    if family in ("simp", "unfold", "rw", "arith"):
        items = bracket_items(head_part(rest + " ")) if family != "unfold" else []
        if family == "unfold":
            if keyword in ("simp", "dsimp"):
                items = bracket_items(rest)
            else:
                items = [w for w in strip_brackets(rest).split() if w not in ("at", "⊢")]
                items = items[: len(items) - len(a["locations"])] if a["locations"] else items
        if family == "rw" and not items and rest and not rest.startswith("["):
            items = [w for w in re.split(r"\s+", head_part(rest)) if w][:1]
        a["rules"] = [_rule(i, goal) for i in items if i != "*"]
        a["star"] = "*" in items
        if " using " in rest:
            a["using"] = one_line(rest.split(" using ", 1)[1])
    if family == "arith" and goal is not None:
        a["arith_hyps"] = [h for h in goal.hypotheses if head_connective(h.type) in _ARITH_SHAPES]
    if family == "intro":
        a["names"] = [w for w in split_top_level(rest.replace(" ", ","), ",") if w]
    elif family in ("induction", "cases"):
        if keyword == "obtain":
            pat, _, src = rest.partition(":=")
            a["var"] = one_line(src)
            a["term"] = one_line(pat)
        else:
            var, eq_name = scrutinee(rest)
            a["var"] = one_line(var)
            a["name"] = eq_name or ""
            if keyword == "rcases" and " with " in rest:
                a["term"] = one_line(rest.split(" with ", 1)[1])
        if goal is not None and a["var"]:
            a["var_type"] = goal.type_of(a["var"])
        a["alts"] = alternatives(tac)
        if family == "induction":
            for alt in a["alts"]:
                alt["ih"], alt["rec"] = _ih_binders(alt["binders"], alt["case"])
                alt["ih_type"] = (
                    _substitute(goal.target, a["var"], alt["rec"])
                    if goal is not None and alt["ih"] and alt["rec"] and a["var"]
                    else None
                )
    elif family in ("exact", "contradiction", "funext", "specialize", "constructor", GENERIC):
        term = one_line(rest)
        a["term"] = term
        head = term.lstrip("@(").split(" ", 1)[0] if term else ""
        head_type = goal.type_of(head) if goal is not None and head else None
        if head_type is None and goal is not None and "." in head:
            # `h.1`, `h.mp`: a projection of a hypothesis.
            owner_type = goal.type_of(head.split(".", 1)[0])
            if owner_type is not None:
                head, head_type = head.split(".", 1)[0], owner_type
        a["head"] = head
        a["head_type"] = head_type
        if goal is not None:
            words = re.findall(r"[^\s()⟨⟩,]+", term)
            a["arg_hyps"] = [
                Hypothesis((w,), t) for w in dict.fromkeys(words) if (t := goal.type_of(w))
            ]
        if family == "funext":
            a["names"] = [w for w in term.split() if w not in (":", "funext")]
        if family == "constructor" and keyword in ("exists", "existsi", "use"):
            a["witnesses"] = [w for w in split_top_level(term, ",") if w]
        if family == "constructor" and term.startswith("⟨"):
            j = close_of(term, 0)
            a["witnesses"] = [w for w in split_top_level(term[1:j], ",") if w]
    elif family == "have":
        _have_args(keyword, rest, a)
    elif family == "by_cases":
        m = re.match(r"^(?:([^\s:]+)\s*:\s*)?(.+?)(?:\s+then\b.*)?$", one_line(rest))
        if m:
            a["name"] = m.group(1) or ""
            a["prop"] = m.group(2) if keyword in ("by_cases", "if") else ""
        if keyword == "split_ifs" and " with " in rest:
            a["names"] = rest.split(" with ", 1)[1].split()
    elif family == "combinator":
        _combinator_args(tac, keyword, rest, a)
    return a


_ARITH_SHAPES = frozenset({"eq", "ne", "le", "lt", "ge", "gt", "dvd"})


def _have_args(keyword: str, rest: str, a: dict[str, Any]) -> None:
    """`have`/`show`/`calc`...: the name, the statement and a one-line proof, or calc steps."""
    if keyword == "calc":
        steps = []
        for line in rest.split("\n"):
            rel = head_part(line.strip() + " ").strip()
            if rel:
                steps.append(one_line(rel))
        a["steps"] = steps
        return
    body = rest
    proof = ""
    for marker in (":=", " from ", " by "):
        i = find_outside(body, marker)
        if i is not None:
            body, proof = body[:i], body[i + len(marker) :]
            if marker == " by ":
                proof = "by " + proof
            break
    if keyword in ("show", "change"):
        a["prop"] = one_line(body.split(" at ", 1)[0])
        a["locations"] = locations(body)
    else:
        m = re.match(r"^([^\s:()⟨]+)?\s*(?::\s*(.+))?$", one_line(body), re.S)
        if m:
            a["name"] = m.group(1) or ""
            a["prop"] = m.group(2) or ""
    proof = flat(proof)
    a["term"] = proof[3:] if proof.startswith("by ") else proof


def _combinator_args(tac: str, keyword: str, rest: str, a: dict[str, Any]) -> None:
    """`t1 <;> t2`, `t1; t2`, `first | ...`, `repeat t`...: the kind and each part's family."""
    chain = split_top_level(head_part(tac), "<;>")
    if len(chain) > 1:
        # Re-attach whatever followed the head part to the last link of the chain.
        tail = tac[len(head_part(tac)) :]
        chain[-1] = chain[-1] + tail
        a["term"] = "chain"
        parts = chain
    elif len(seq := sequence(tac)) > 1:
        a["term"] = "sequence"
        parts = seq
    elif keyword == "first":
        a["term"] = "first"
        parts = [p for p in split_top_level(rest, "|") if p]
    else:
        a["term"] = keyword or "group"
        parts = [rest] if rest else []
        if keyword == "iterate":
            count, _, body = rest.partition(" ")
            a["name"] = count
            parts = [body] if body else []
    a["parts"] = [{"tactic": flat(p), "family": classify(unwrap(p)[0], None)} for p in parts]


def _ih_binders(binders: list[str], case: str) -> tuple[str, str]:
    """The induction hypothesis and the variable it is about, from an alternative's binders."""
    if not binders:
        return "", ""
    names = [b for b in binders if b != "_"]
    ihs = [b for b in names if b.lower().startswith("ih") or b.lower().endswith("ih")]
    if ihs:
        i = binders.index(ihs[0])
        return ihs[0], binders[i - 1] if i > 0 else ""
    if case in ("succ", "cons", "node") and len(binders) >= 2:
        return binders[-1], binders[-2]
    return "", ""


def split_ih(g: GoalDiff, var: str) -> dict[str, list[Hypothesis]]:
    """New hypotheses of an induction case: variables vs induction hypotheses.

    An induction hypothesis is the old goal with the variable replaced by a new one, is named
    like one (`ih`, `a_ih`), or is a proposition rather than a type.
    """
    news = [n for h in g.introduced for n in h.names]
    goal = one_line(g.before.target)
    variables, ihs = [], []
    for h in g.introduced:
        text = one_line(h.type)
        is_ih = (
            any(_substitute(goal, var, n) == text for n in news if var)
            or any(n.lower().startswith("ih") or n.endswith("_ih") for n in h.names)
            or head_connective(text) not in ("other", "fun")
        )
        (ihs if is_ih else variables).append(h)
    return {"vars": variables, "ihs": ihs}


def _substitute(text: str, var: str, new: str) -> str:
    pattern = rf"(?<![\w.'✝]){re.escape(var)}(?![\w'✝])"
    return one_line(re.sub(pattern, lambda _: new, text))


def _rule(item: str, goal: Goal | None) -> dict[str, Any]:
    """A rewrite/simp rule: its name, direction, and the statement when it is a hypothesis.

    `hyp` is the hypothesis the rule comes from (`h` for `h x`), `lhs`/`rhs` the sides it
    rewrites between when it is used as stated.
    """
    reverse = item.startswith(("←", "<-"))
    name = item.lstrip("←<-").strip() if reverse else item
    head = name.split(" ", 1)[0]
    hyp_type = goal.type_of(head) if goal is not None and head else None
    lhs = rhs = ""
    if hyp_type is not None and head == name and head_connective(hyp_type) in ("eq", "iff"):
        for op in (" = ", " ↔ "):
            sides = split_top_level(one_line(hyp_type), op)
            if len(sides) == 2:
                lhs, rhs = (sides[1], sides[0]) if reverse else (sides[0], sides[1])
                break
    return {
        "name": name,
        "hyp": head if hyp_type is not None else "",
        "reverse": reverse,
        "hyp_type": hyp_type,
        "lhs": lhs,
        "rhs": rhs,
    }
