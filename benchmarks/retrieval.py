"""Premise retrieval benchmark: BM25 against the dense retriever, recall@1 and @10 of held-out
tactics' premises (ReProver's R@k).

    python benchmarks/retrieval.py DATASET [--library FILE] [--seeds 0 1 2] [--max-steps N]
                                   [--work-dir DIR] [--split test] [--json]

DATASET is a `leancot extract` folder (LeanDojo layout: corpus.jsonl, random/*.json), e.g. a
`leancot run` folder's extract/dataset. The candidates of a tactic are the core library's
premises (read from the embedded Lean and cached, or --library, a premise cache file) and the
declarations of its file before its theorem. The dense retriever (the tiny encoder) trains on
the train split, one run per seed (resumed from --work-dir); both are measured on --split
(test: never trained or tuned on). `--json` prints one object: `bm25_recall1`,
`bm25_recall10`, `frequency_recall1`, `frequency_recall10` (the popularity baseline: premises
ranked by how many train tactics name them, then BM25), `retriever_recall1`,
`retriever_recall10` (means over the seeds), `per_seed`,
`tactics`, `premises`, `coverage` (the share of annotated premises that are candidates at all),
`minutes`. Run with OMP_NUM_THREADS=1.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from leancot.prover.premises import load_library
    from leancot.train.retriever_eval import measure_retrievers

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("dataset", type=Path)
    p.add_argument("--library", default=None, help="premise cache file (default: embedded Lean)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--max-steps", type=int, default=-1, help="steps per run (-1: the epochs)")
    p.add_argument("--work-dir", type=Path, default=None, help="retriever runs (default: temp)")
    p.add_argument("--split", default="test")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    library = load_library(args.library)
    # the trainer's log lines go to stderr: stdout holds the table or the one JSON object
    with tempfile.TemporaryDirectory() as tmp, redirect_stdout(sys.stderr):
        work = args.work_dir or Path(tmp)
        report = measure_retrievers(
            args.dataset, library, work, seeds=args.seeds, split=args.split,
            max_steps=args.max_steps,
        )  # fmt: skip
    report["minutes"] = round((time.perf_counter() - t0) / 60, 2)
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"split {report['split']}: {report['tactics']} tactics, {report['premises']} premises, "
          f"coverage {report['coverage']:.2f}")  # fmt: skip
    print(f"{'retriever':<22}{'recall@1':>10}{'recall@10':>11}")
    print(f"{'bm25':<22}{report['bm25_recall1']:>10.3f}{report['bm25_recall10']:>11.3f}")
    freq = (report["frequency_recall1"], report["frequency_recall10"])
    print(f"{'train frequency + bm25':<22}{freq[0]:>10.3f}{freq[1]:>11.3f}")
    for run in report["per_seed"]:
        name = f"dense seed {run['seed']}"
        print(f"{name:<22}{run['retriever_recall1']:>10.3f}{run['retriever_recall10']:>11.3f}")
    name = f"dense mean of {len(report['seeds'])}"
    print(f"{name:<22}{report['retriever_recall1']:>10.3f}{report['retriever_recall10']:>11.3f}")
    print(f"{report['minutes']} minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
