"""`leancot extract`: trace Lean sources into a LeanDojo Benchmark 4 folder (leancot.extract)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from leancot.cli.common import add_parser, make_console, print_error

EXTRACT_BACKENDS = ("wasm", "native", "repl", "leandojo")

EXTRACT_DESCRIPTION = """\
Trace every theorem of Lean sources: the goal state before and after each tactic, the tactic
text and the premises it uses.

input:  SOURCE, a .lean file or a Lake project folder (default: the corpus bundled with leancot,
        lean_project/LeanCot/Corpus); with --backend leandojo, the git repo --repo at --commit.
output: OUT_DIR, a LeanDojo Benchmark 4 folder: random/{train,val,test}.json and
        novel_premises/{train,val,test}.json (JSON lists of traced theorems), corpus.jsonl (the
        premises of each file) and metadata.json (written last; marks the folder complete).
        `leancot translate OUT_DIR` reads it; so do ReProver's loaders (docs/LEANDOJO.md).
        `file_path`s are relative to the git checkout holding SOURCE, `url`/`commit` its remote
        and HEAD; a checkout with uncommitted changes is refused unless --allow-dirty.

Backends: wasm (default) runs the embedded Lean (`leancot setup`; core library only); native
runs lean/lake from elan (needed for Mathlib); repl runs the leanprover-community/repl binary
named by $LEANCOT_REPL_BINARY; leandojo clones, builds and traces --repo with LeanDojo
(pip install 'leancot[leandojo]', git, elan, network, $GITHUB_ACCESS_TOKEN).
Exit status: 0 when every file was traced, 1 when a file failed (the folder still holds the
theorems of the files that succeeded; rerun to retry the failed ones) or on an error.
"""


def register_extract(sub: Any) -> None:
    p = add_parser(
        sub,
        "extract",
        "trace Lean proofs into a LeanDojo-format dataset folder",
        EXTRACT_DESCRIPTION,
    )
    p.add_argument(
        "source",
        type=Path,
        nargs="?",
        default=None,
        help="a .lean file or a Lake project folder (default: the bundled corpus)",
    )
    p.add_argument("-o", "--out-dir", type=Path, required=True, help="the dataset folder to write")
    p.add_argument("--backend", choices=EXTRACT_BACKENDS, default="wasm", help="(default: wasm)")
    p.add_argument(
        "--url",
        default=None,
        help="repo URL recorded as the theorems' `url` (default: the git remote `origin`, else "
        "the checkout's absolute path, as LeanDojo's LeanGitRepo takes a local repo)",
    )
    p.add_argument(
        "--commit",
        default=None,
        help="commit recorded as the theorems' `commit` (default: the git HEAD); "
        "with --backend leandojo, the commit to trace (required)",
    )
    p.add_argument(
        "--include",
        nargs="+",
        default=None,
        metavar="GLOB",
        help="files of a project folder to trace, as globs relative to it (default: **/*.lean)",
    )
    p.add_argument(
        "--timeout", type=float, default=600.0, help="seconds allowed per file (default: 600)"
    )
    p.add_argument(
        "--no-resume",
        dest="resume",
        action="store_false",
        help="trace every file again instead of reusing the per-file results an earlier run "
        "cached in OUT_DIR.cache/",
    )
    p.add_argument(
        "--allow-dirty",
        action="store_true",
        help="extract a checkout with uncommitted changes under the Lake project (refused by "
        "default: the recorded commit would not hold the files traced); recorded as `dirty`",
    )
    p.add_argument(
        "--keep-all-tactics",
        action="store_true",
        help="keep the steps LeanDojo's export drops (tactics containing `·`, steps on no goals)",
    )
    p.add_argument("--dataset-name", default=None, help="metadata.json's dataset_name")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    dojo = p.add_argument_group("leandojo backend")
    dojo.add_argument("--repo", default=None, help="git URL of the repo to trace with LeanDojo")
    dojo.add_argument(
        "--include-dependencies",
        action="store_true",
        help="keep the theorems of the repo's dependencies too (Lean 4 core is always skipped)",
    )
    p.set_defaults(handler=_cmd_extract)


def _cmd_extract(args: argparse.Namespace) -> int:
    if args.backend == "leandojo":
        return _extract_leandojo(args)
    if args.repo is not None:
        raise ValueError("--repo is for --backend leandojo; give a local SOURCE path instead")
    from leancot.extract.extractor import ExtractConfig
    from leancot.extract.extractor import main as extract_main

    fields: dict[str, Any] = {
        "source": args.source,
        "out_dir": args.out_dir,
        "backend": args.backend,
        "url": args.url,
        "commit": args.commit,
        "timeout": args.timeout,
        "resume": args.resume,
        "allow_dirty": args.allow_dirty,
        "keep_all_tactics": args.keep_all_tactics,
        "dataset_name": args.dataset_name,
    }
    if args.include:
        fields["include"] = tuple(args.include)
    summary = extract_main(ExtractConfig(**fields), progress=not args.quiet)
    out = make_console()
    for failure in summary.files_failed:
        where = f"{failure.path}:{failure.line}" if failure.line else f"{failure.path}"
        out.print(f"FAIL {where}: {failure.message}", markup=False)
    out.print(
        f"{summary.theorems} theorems, {summary.tactics} tactics from {summary.files_ok} files "
        f"in {summary.seconds:.1f}s -> {summary.out_dir}",
        markup=False,
    )
    _report_compatibility(out, summary.out_dir)
    if summary.files_failed:
        failed = len({failure.path for failure in summary.files_failed})
        out.print(f"{failed} file(s) failed; their theorems are not in the dataset", markup=False)
        return 1
    return 0


def _extract_leandojo(args: argparse.Namespace) -> int:
    from leancot.extract.leandojo import LeanDojoError, LeanDojoUnavailable, trace_with_leandojo

    if not args.repo or not args.commit:
        raise ValueError("--backend leandojo needs --repo URL and --commit SHA")
    if args.source is not None:
        raise ValueError("--backend leandojo traces --repo; drop the SOURCE argument")
    try:
        out_dir = trace_with_leandojo(
            args.repo,
            args.commit,
            args.out_dir,
            include_dependencies=args.include_dependencies,
        )
    except (LeanDojoUnavailable, LeanDojoError) as exc:
        print_error(str(exc))
        return 1
    from leancot.extract.dataset import read_metadata

    meta = read_metadata(out_dir)
    make_console().print(
        f"{meta.get('num_theorems')} theorems, {meta.get('num_tactics')} tactics -> {out_dir}",
        markup=False,
    )
    return 0


def _report_compatibility(out: Any, dataset: Path) -> None:
    """Say how the folder fares against ReProver's loaders' invariants (docs/LEANDOJO.md)."""
    from leancot.extract.compat import leandojo_problems
    from leancot.extract.dataset import is_complete

    if not is_complete(dataset):
        return
    problems = leandojo_problems(dataset)
    if not problems:
        out.print("ReProver's loader invariants: all hold (docs/LEANDOJO.md)", markup=False)
        return
    out.print(f"ReProver's loader invariants: {len(problems)} violation(s), e.g.:", markup=False)
    for line in problems[:5]:
        out.print(f"  {line}", markup=False)
