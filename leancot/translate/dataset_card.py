"""The `README.md` dataset card of a `leancot export` folder: YAML front matter the Hugging Face
hub and `datasets.load_dataset` read (configs, features, licence, size), then prose saying where
the data comes from and how it was made (`render_card`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from leancot.translate.parquet_shards import DATA_DIR

CARD_NAME = "README.md"
_SIZE_CATEGORIES = [
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
]


def size_category(num_rows: int) -> str:
    """The hub's `size_categories` tag for a row count."""
    for bound, label in _SIZE_CATEGORIES:
        if num_rows < bound:
            return label
    return "n>1T" if num_rows >= 1_000_000_000_000 else "1B<n<10B"


def _type_text(feature: dict[str, Any]) -> str:
    if "dtype" in feature:
        return feature["dtype"]
    if "list" in feature:
        inner = feature["list"]
        if isinstance(inner, str):
            return f"list[{inner}]"
        if isinstance(inner, list):
            return "list[struct]"
        return f"list[{_type_text(inner)}]"
    return "struct"


def render_card(
    *,
    name: str,
    description: str,
    features: list[dict[str, Any]],
    counts: Mapping[str, int],
    source_repo: str,
    source_commit: str,
    license: str,
    sizes: Mapping[str, tuple[int, int]] | None = None,
    lean_version: str | None = None,
    rewrite_model: str | None = None,
) -> str:
    """The README.md dataset card: YAML front matter for the hub, then prose.

    `sizes` maps a split to (Arrow bytes, Parquet bytes) for `dataset_info`; omitted, they are 0.
    """
    from leancot import __version__

    total = sum(counts.values())
    sizes = sizes or {}
    front = {
        "license": license,
        "pretty_name": name,
        "task_categories": ["text-generation"],
        "language": ["en"],
        "tags": ["lean4", "theorem-proving", "chain-of-thought"],
        "size_categories": [size_category(total)],
        "configs": [
            {
                "config_name": "default",
                "data_files": [
                    {"split": split, "path": f"{DATA_DIR}/{split}-*.parquet"} for split in counts
                ],
            }
        ],
        "dataset_info": {
            "features": features,
            "splits": [
                {"name": split, "num_bytes": sizes.get(split, (0, 0))[0], "num_examples": n}
                for split, n in counts.items()
            ],
            "download_size": sum(sizes.get(split, (0, 0))[1] for split in counts),
            "dataset_size": sum(sizes.get(split, (0, 0))[0] for split in counts),
        },
    }
    header = yaml.safe_dump(front, sort_keys=False, allow_unicode=True)
    feature_rows = "\n".join(f"| `{f['name']}` | {_type_text(f)} |" for f in features)
    split_rows = "\n".join(f"| {split} | {n:,} |" for split, n in counts.items())
    lean = f"Lean {lean_version}" if lean_version else "Lean 4"
    if rewrite_model:
        rewrite = (
            f"The templated thoughts were then rewritten by the language model `{rewrite_model}`; "
            "the tactics are unchanged and were checked by Lean."
        )
    else:
        rewrite = "No language model rewrote them: every thought is the template's text."
    return f"""---
{header}---

# {name}

{description.strip()}

## Dataset structure

| feature | type |
|---|---|
{feature_rows}

| split | rows |
|---|---|
{split_rows}
| **total** | {total:,} |

Load it with `datasets.load_dataset("<this repo or folder>")`.

## Source

The proofs come from <{source_repo}> at commit `{source_commit}`.

## How it was made

1. Every theorem of the source was traced with {lean} by leancot {__version__}: the goal state
   before and after each tactic, the tactic text and the premises it uses (LeanDojo Benchmark 4
   fields). Premises are located in LeanDojo's layout; the embedded Lean ships its library
   without source or declaration ranges, so in the traced folder's `corpus.jsonl` a library
   file is its declarations sorted by name, one a line, and a premise's `code` is its signature.
2. Each step got a chain-of-thought explanation from a fixed template over the states and the
   tactic. {rewrite}
3. Splits are deterministic: a theorem's split follows from a hash of its full name.

## License

The data is released under `{license}`; the source repository's own licence applies to the
Lean code it contains.
"""
