"""Run ReProver's own loading code on a benchmark folder and print what it accepts.

    python benchmarks/reprover_loaders.py --reprover PATH/TO/ReProver --dataset DATASET

PATH/TO/ReProver is a checkout of https://github.com/lean-dojo/ReProver; nothing of it is copied
here. Its modules import torch, pytorch_lightning, deepspeed and transformers at the top although
the loaders use none of them: those are replaced by empty modules. `lean_dojo` must be installed
(`pip install 'leancot[leandojo]'`): ReProver's positions are `lean_dojo.Pos`. The script builds
`common.Corpus`, every `retrieval.datamodule.RetrievalDataset` split (drawing each training
example's negatives, as training does) and runs `scripts/data_stats.py`, and counts the premises
ReProver logs as unlocatable.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
from pathlib import Path
from typing import Any

HEAVY = (
    "torch",
    "torch.utils",
    "torch.utils.data",
    "pytorch_lightning",
    "pytorch_lightning.utilities",
    "pytorch_lightning.utilities.deepspeed",
    "pytorch_lightning.strategies",
    "pytorch_lightning.strategies.deepspeed",
    "transformers",
    "deepspeed",
    "deepspeed.ops",
    "deepspeed.ops.adam",
)


class _Anything:
    def __getattr__(self, name: str) -> _Anything:
        return _Anything()

    def __call__(self, *args: Any, **kwargs: Any) -> _Anything:
        return _Anything()

    def __mro_entries__(self, bases: tuple) -> tuple:
        return (object,)


def _stub_heavy_imports() -> None:
    for name in HEAVY:
        module = types.ModuleType(name)
        module.__getattr__ = lambda attr: _Anything()  # type: ignore[method-assign]
        sys.modules.setdefault(name, module)
    data = sys.modules["torch.utils.data"]
    data.Dataset = object  # type: ignore[attr-defined]
    data.DataLoader = object  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reprover", type=Path, required=True, help="a ReProver checkout")
    parser.add_argument("--dataset", type=Path, required=True, help="a benchmark folder")
    args = parser.parse_args()
    _stub_heavy_imports()
    sys.path.insert(0, str(args.reprover))
    from loguru import logger

    unlocated = []
    logger.add(lambda m: unlocated.append(m) if "Cannot locate" in m else None, level="WARNING")
    import common
    from retrieval.datamodule import RetrievalDataset

    corpus = common.Corpus(str(args.dataset / "corpus.jsonl"))
    rows = [("files", corpus.num_files), ("premises", len(corpus))]
    for split in ("train", "val", "test"):
        path = str(args.dataset / "random" / f"{split}.json")
        ds = RetrievalDataset([path], corpus, 3, 1, 512, None, split == "train")
        for i in range(len(ds)):
            ds[i]  # training examples draw their negatives here
        rows.append((f"retrieval examples ({split})", len(ds)))
    theorems = [
        t
        for split in ("train", "val", "test")
        for t in json.loads((args.dataset / "random" / f"{split}.json").read_text())
    ]
    steps = [s for t in theorems for s in t["traced_tactics"]]
    rows.append(("tactics", len(steps)))
    rows.append(("tactics with premises", sum(bool(s["annotated_tactic"][1]) for s in steps)))
    rows.append(("premises ReProver cannot locate", len(unlocated)))
    sys.path.insert(0, str(args.reprover / "scripts"))
    import data_stats

    sys.argv = ["data_stats.py", "--data-path", str(args.dataset)]
    data_stats.main()
    rows.append(("scripts/data_stats.py", "ran"))
    print("| metric | value |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
