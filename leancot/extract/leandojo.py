"""`leancot extract --backend leandojo`: trace a repo with LeanDojo and store it as our benchmark.

LeanDojo (the optional extra `leandojo`, `pip install 'leancot[leandojo]'`) clones the repo,
builds it with `lake`, runs its own `ExtractData.lean` over every file and loads the result as a
`TracedRepo`. It needs git, elan/lake, the network and, for GitHub, a `GITHUB_ACCESS_TOKEN`;
`check_prerequisites` looks for all of these first and says what to do. `lean_dojo` runs git and
builds a GitHub client when imported, so it is imported only inside `trace_with_leandojo`, after
the checks. `convert_traced_repo` works on anything with LeanDojo's attribute names.

Positions: LeanDojo's `Pos` has 1-based lines and 1-based columns, and so has our benchmark format
(docs/FORMATS.md#leandojo-benchmark-4-folder): positions are copied as they are.
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import shutil
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from leancot.extract.dataset import write_benchmark
from leancot.formats import NO_GOALS

INSTALL_HINT = "install it: pip install 'leancot[leandojo]'"
ELAN_HINT = (
    "install elan, the Lean toolchain manager, which provides lean and lake: "
    "curl https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh -sSf | sh"
)
TOKEN_HINT = (
    "set GITHUB_ACCESS_TOKEN to a GitHub personal access token (no scopes needed; "
    "https://github.com/settings/tokens): LeanDojo calls the GitHub API for the repo and its "
    "dependencies and hits the anonymous rate limit without one"
)
GITHUB_API = ("api.github.com", 443)
CONNECT_TIMEOUT_S = 5.0
PACKAGES_DIR = ".lake/packages"  # where LeanDojo puts dependencies inside a traced repo


class LeanDojoUnavailable(RuntimeError):
    """A prerequisite of the LeanDojo backend is missing; the message lists each with its fix."""


class LeanDojoError(RuntimeError):
    """LeanDojo failed while tracing; the message names the repo and LeanDojo's error."""


def _is_github(url: str) -> bool:
    return url.startswith("git@github.com:") or urlparse(url).hostname == "github.com"


def _hosts_to_reach(url: str, env: Mapping[str, str]) -> list[tuple[str, int]]:
    """The (host, port) pairs LeanDojo will talk to; a proxy stands in for all of them."""
    proxy = env.get("HTTPS_PROXY") or env.get("https_proxy")
    if proxy:
        parsed = urlparse(proxy if "://" in proxy else f"http://{proxy}")
        return [(parsed.hostname or "", parsed.port or 443)]
    hosts = [GITHUB_API]  # LeanDojo resolves the Lean 4 commit of every repo on GitHub
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https") and parsed.hostname and not _is_github(url):
        hosts.append((parsed.hostname, parsed.port or 443))
    return hosts


def _can_connect(host: str, port: int, timeout: float = CONNECT_TIMEOUT_S) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def missing_prerequisites(url: str, env: Mapping[str, str] | None = None) -> list[str]:
    """One line per missing prerequisite for tracing `url` with LeanDojo, each saying the fix."""
    env = os.environ if env is None else env
    problems = []
    if importlib.util.find_spec("lean_dojo") is None:
        problems.append(f"the LeanDojo package (lean_dojo) is not installed; {INSTALL_HINT}")
    if shutil.which("git") is None:
        problems.append("git is not on PATH; install git (2.25 or newer)")
    absent = [tool for tool in ("elan", "lake") if shutil.which(tool) is None]
    if absent:
        problems.append(f"{' and '.join(absent)} not on PATH; {ELAN_HINT}")
    unreachable = [f"{h}:{p}" for h, p in _hosts_to_reach(url, env) if not _can_connect(h, p)]
    if unreachable:
        problems.append(
            f"no network: cannot reach {', '.join(unreachable)}; LeanDojo clones the repo, "
            "downloads its Lean toolchain and queries GitHub, so connect to the internet "
            "(or set HTTPS_PROXY), or use leancot's own extractor, which needs no network"
        )
    if _is_github(url) and not env.get("GITHUB_ACCESS_TOKEN"):
        problems.append(TOKEN_HINT)
    return problems


def check_prerequisites(url: str, env: Mapping[str, str] | None = None) -> None:
    """Raise `LeanDojoUnavailable` listing every missing prerequisite, before any work starts."""
    problems = missing_prerequisites(url, env)
    if problems:
        raise LeanDojoUnavailable(
            f"cannot trace {url} with LeanDojo:\n" + "\n".join(f"- {p}" for p in problems)
        )


def trace_with_leandojo(
    url: str,
    commit: str,
    out_dir: str | os.PathLike[str],
    *,
    build_deps: bool = True,
    include_dependencies: bool = False,
) -> Path:
    """Trace `url` at `commit` with LeanDojo and write a benchmark folder at `out_dir`.

    `build_deps` is LeanDojo's own flag (trace the dependencies too, needed for their premises).
    `include_dependencies` keeps the dependencies' theorems as well as the repo's. LeanDojo's
    environment variables (CACHE_DIR, DISABLE_REMOTE_CACHE, NUM_PROCS, ...) apply.
    """
    check_prerequisites(url)
    import lean_dojo

    try:
        repo = lean_dojo.LeanGitRepo(url, commit)
        traced_repo = lean_dojo.trace(repo, build_deps=build_deps)
    except Exception as exc:  # LeanDojo signals failures with assertions and various errors
        raise LeanDojoError(
            f"LeanDojo failed to trace {url} at {commit}: {type(exc).__name__}: {exc}"
        ) from exc
    theorems, corpus = convert_traced_repo(traced_repo, include_dependencies=include_dependencies)
    metadata = {
        "dataset_name": f"LeanDojo trace of {url}",
        "creation_time": str(datetime.datetime.now()),
        "from_repo": {"url": repo.url, "commit": repo.commit},
        "lean_version": str(getattr(repo, "lean_version", "")).removeprefix("v"),
        "leandojo_version": lean_dojo.__version__,
        "extractor": {"backend": "leandojo", "lean_dojo_version": lean_dojo.__version__},
    }
    return write_benchmark(out_dir, theorems, corpus, metadata)


def _pos(pos: Iterable[int]) -> list[int]:
    """LeanDojo's (line, column) as a JSON list; both stay 1-based, as LeanDojo writes them."""
    line, column = pos
    return [int(line), int(column)]


def _file_path(traced_repo: Any, thm: Any) -> str:
    """The theorem's path inside the traced repo, as LeanDojo's benchmark script writes it."""
    if thm.repo == traced_repo.repo:
        return str(thm.theorem.file_path)
    for name, dep in traced_repo.dependencies.items():
        if dep == thm.repo:
            return f"{PACKAGES_DIR}/{name}/{thm.theorem.file_path}"
    raise LeanDojoError(
        f"theorem {thm.theorem.full_name} comes from {thm.repo.url}, which is neither the traced "
        "repo nor one of its dependencies"
    )


def _provenance(premise: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(premise)
    for key in ("def_pos", "def_end_pos"):
        if out.get(key) is not None:
            out[key] = _pos(out[key])
    out["def_path"] = str(out.get("def_path") or "")
    return out


def convert_tactic(tactic: Any) -> dict[str, Any]:
    """A LeanDojo `TracedTactic` as a `traced_tactics` entry."""
    text, premises = tactic.get_annotated_tactic()
    return {
        "tactic": tactic.tactic,
        "annotated_tactic": [text, [_provenance(p) for p in premises]],
        "state_before": tactic.state_before,
        "state_after": tactic.state_after,
    }


def _optional_text(method: Any) -> str | None:
    try:
        return method()
    except Exception:  # LeanDojo asserts on syntax it does not model; the field is optional
        return None


def convert_traced_theorem(traced_repo: Any, thm: Any) -> dict[str, Any]:
    """A LeanDojo `TracedTheorem` as a theorem object (LeanDojo Benchmark 4 fields + extras).

    Like LeanDojo's benchmark script, tactics run on no goals and tactics containing a
    focusing dot `·` (compound steps whose parts are traced separately) are dropped.
    """
    tactics = [
        convert_tactic(t)
        for t in thm.get_traced_tactics()
        if t.state_before != NO_GOALS and "·" not in t.tactic
    ]
    record: dict[str, Any] = {
        # the traced repo's, as LeanDojo's script writes them: a dependency's theorem is named
        # by its path under .lake/packages/ inside the traced repo
        "url": traced_repo.repo.url,
        "commit": traced_repo.repo.commit,
        "file_path": _file_path(traced_repo, thm),
        "full_name": thm.theorem.full_name,
        "start": _pos(thm.start),
        "end": _pos(thm.end),
        "traced_tactics": tactics,
    }
    statement = _optional_text(thm.get_theorem_statement)
    if statement is not None:
        record["statement"] = statement.removesuffix(":=").rstrip()
    proof = _optional_text(thm.get_tactic_proof)
    if proof is not None:
        record["proof"] = proof
    return record


def convert_corpus(traced_repo: Any) -> list[dict[str, Any]]:
    """`corpus.jsonl` entries, imported files first (LeanDojo's `export_premises`)."""
    graph = traced_repo.traced_files_graph
    if graph is not None:
        import networkx as nx

        order = reversed(list(nx.topological_sort(graph)))
        files = [
            (graph.nodes[n]["traced_file"], [str(s) for s in graph.successors(n)]) for n in order
        ]
    else:
        files = [
            (tf, sorted(str(p) for _m, p in tf.get_direct_dependencies(traced_repo.repo)))
            for tf in traced_repo.traced_files
        ]
    corpus = []
    for tf, imports in files:
        premises = []
        for p in tf.get_premise_definitions():
            premises.append({**p, "start": _pos(p["start"]), "end": _pos(p["end"])})
        corpus.append({"path": str(tf.path), "imports": imports, "premises": premises})
    return corpus


def convert_traced_repo(
    traced_repo: Any, *, include_dependencies: bool = False
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(theorems, corpus files) from a LeanDojo `TracedRepo`.

    Theorems of Lean 4 itself are always skipped (as LeanDojo does); those of other
    dependencies only when `include_dependencies` is false. The corpus keeps every traced file,
    since the repo's proofs use premises from its dependencies.
    """
    theorems = []
    for thm in traced_repo.get_traced_theorems():
        if getattr(thm.repo, "is_lean4", False):
            continue
        if not include_dependencies and thm.repo != traced_repo.repo:
            continue
        theorems.append(convert_traced_theorem(traced_repo, thm))
    return theorems, convert_corpus(traced_repo)
