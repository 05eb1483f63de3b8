"""`leancot translate` and `export`: traced theorems to CoT corpora, corpora to hub datasets.

The work is leancot.translate's (corpora, rewrite, export); these handlers fill configs and print.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from leancot.cli.common import add_parser, make_console, now_iso, print_error
from leancot.files import iter_jsonl, write_json, write_jsonl
from leancot.formats import MANIFEST_NAME as TRANSLATE_MANIFEST
from leancot.formats import PROOFS_FILE, STAR_FILE, STEPS_FILE

# --- translate -----------------------------------------------------------------------------------

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


def register_translate(sub: Any) -> None:
    p = add_parser(
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
    from leancot.translate.corpora import proof_docs, star_rows, step_records

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
            print_error(f"rewriting the thoughts failed, no corpus written: {exc}")
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
        "created": now_iso(),
        "dataset": str(args.dataset.resolve()),
        "from_repo": meta.get("from_repo", {}),
        "lean_version": meta.get("lean_version"),
        "split_strategy": args.split_strategy,
        "max_depth": args.max_depth,
        "rewrite": rewrite_info,
        "files": counts,
    }
    write_json(out_dir / TRANSLATE_MANIFEST, manifest)  # last: marks completion
    out = make_console()
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


def register_export(sub: Any) -> None:
    p = add_parser(
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
    name = args.name or f"leancot {args.corpus}: {repo_label(url)}"
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
    console = make_console()
    console.print(f"exported {path} -> {out}", markup=False)
    if args.push:
        try:
            url = push_to_hub(out, args.push, private=args.private)
        except HubError as exc:
            print_error(str(exc))
            return 1
        console.print(f"pushed to {url}", markup=False)
    return 0


def _jsonl_rows(path: Path, split: str) -> Any:
    """The rows of one split in a JSONL file, streamed (the file is read once per split)."""
    return (row for row in iter_jsonl(path) if row.get("split") == split)


def repo_label(url: str) -> str:
    """`owner/repo` of a repo URL, the folder name of a `local:` path."""
    tail = url.removeprefix("local:").rstrip("/").removesuffix(".git")
    parts = tail.replace(":", "/").split("/")
    return "/".join(parts[-2:]) if url.startswith(("http", "git@")) else parts[-1]
