"""Extraction and template translation of the bundled corpus, measured in one run.

Usage: python benchmarks/extract_translate.py [--out DIR] [--json]

Extracts the whole bundled corpus with one Lean session (no cache: a fresh output folder), then
renders every traced step with the tactic templates. Prints a table, or with --json one object
with the keys theorems, tactics, extract_s, template_steps_per_s, specific_template_frac.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from templates_bench import template_rate  # noqa: E402

from leancot.extract.dataset import read_benchmark  # noqa: E402
from leancot.extract.extractor import ExtractConfig, main  # noqa: E402


def run(out_dir: Path) -> dict[str, float | int]:
    for stale in (out_dir, out_dir.with_name(out_dir.name + ".cache")):
        shutil.rmtree(stale, ignore_errors=True)
    summary = main(ExtractConfig(out_dir=out_dir, resume=False), progress=False)
    if summary.files_failed:
        raise SystemExit("files failed: " + "; ".join(map(str, summary.files_failed)))
    steps = [
        step
        for split in read_benchmark(out_dir).values()
        for theorem in split
        for step in theorem["traced_tactics"]
    ]
    steps_per_s, specific = template_rate(steps)
    return {
        "theorems": summary.theorems,
        "tactics": summary.tactics,
        "extract_s": round(summary.seconds, 1),
        "template_steps_per_s": round(steps_per_s, 1),
        "specific_template_frac": round(specific, 4),
    }


def main_cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: a temp dir)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="leancot-bench-")) / "dataset"
    result = run(out)
    if args.json:
        print(json.dumps(result))
        return
    targets = {
        "theorems": ">= 300",
        "extract_s": "<= 120",
        "template_steps_per_s": ">= 1000",
        "specific_template_frac": ">= 0.95",
    }
    print(f"{'metric':<26}{'value':>12}  target")
    for key, value in result.items():
        print(f"{key:<26}{value:>12}  {targets.get(key, '')}")


if __name__ == "__main__":
    main_cli()
