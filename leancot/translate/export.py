"""`leancot export`: CoT rows to a Hugging Face hub-ready dataset folder, and an optional push.

`export_dataset` streams each split into Parquet shards `data/{split}-00000-of-0000N.parquet`
(one Arrow schema for all splits, inferred from the first rows) and writes a `README.md`
dataset card whose YAML front matter declares the configs, features, licence and size, so
`datasets.load_dataset(folder)` and the hub read it as is. The folder is built under a temporary
name and renamed into place; README.md is written last. `push_to_hub` uploads a finished folder
and, when the hub cannot be reached, says so without touching it. Needs pyarrow (and
huggingface_hub for the push): `pip install 'leancot[train]'`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from leancot.files import atomic_dir

DATA_DIR = "data"
CARD_NAME = "README.md"
SPLIT_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_SIZE_CATEGORIES = [
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
]
_INSTALL_HINT = "install the export dependencies: pip install 'leancot[train]'"


class ExportError(ValueError):
    """Rows that cannot be exported (bad split name, rows not matching the schema, no rows)."""


class HubError(RuntimeError):
    """Pushing to the Hugging Face hub failed; the local folder is untouched."""


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ExportError(f"pyarrow is not installed; {_INSTALL_HINT}") from exc
    return pa, pq


def size_category(num_rows: int) -> str:
    """The hub's `size_categories` tag for a row count."""
    for bound, label in _SIZE_CATEGORIES:
        if num_rows < bound:
            return label
    return "n>1T" if num_rows >= 1_000_000_000_000 else "1B<n<10B"


def _promote_nulls(pa: Any, t: Any) -> Any:
    """Replace null types (a column empty or None in the first rows) by string."""
    if pa.types.is_null(t):
        return pa.string()
    if pa.types.is_list(t):
        return pa.list_(_promote_nulls(pa, t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _promote_nulls(pa, f.type)) for f in t])
    return t


def infer_schema(rows: list[Mapping[str, Any]]) -> Any:
    """One Arrow schema for `rows`: columns in order of first appearance, nulls as strings."""
    pa, _ = _pyarrow()
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    fields = []
    for name in names:
        try:
            column = pa.array([row.get(name) for row in rows])
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise ExportError(
                f"column {name!r} mixes value types in the first rows: {exc}"
            ) from exc
        fields.append(pa.field(name, _promote_nulls(pa, column.type)))
    return pa.schema(fields)


def _feature(pa: Any, t: Any) -> Any:
    """The `datasets` YAML form of an Arrow type, without the name: dtype, list or struct."""
    if pa.types.is_list(t):
        return {"list": _unwrap(_feature(pa, t.value_type))}
    if pa.types.is_struct(t):
        return {"struct": [{"name": f.name, **_feature(pa, f.type)} for f in t]}
    names = {
        pa.float16(): "float16",
        pa.float32(): "float32",
        pa.float64(): "float64",
        pa.bool_(): "bool",
    }
    return {"dtype": names.get(t, str(t))}


def _unwrap(feature: dict[str, Any]) -> Any:
    if "dtype" in feature:
        return feature["dtype"]
    if "struct" in feature:
        return feature["struct"]
    return feature


def schema_features(schema: Any) -> list[dict[str, Any]]:
    """`dataset_info.features` for the card: `[{"name", "dtype" | "list" | "struct"}, ...]`."""
    pa, _ = _pyarrow()
    return [{"name": f.name, **_feature(pa, f.type)} for f in schema]


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


class _ShardWriter:
    """Writes one split's rows into numbered Parquet shards against a shared schema."""

    def __init__(self, data_dir: Path, split: str, schema: Any, shard_rows: int) -> None:
        self.data_dir, self.split, self.schema, self.shard_rows = (
            data_dir,
            split,
            schema,
            shard_rows,
        )
        self.parts: list[Path] = []
        self.num_rows = 0
        self.num_bytes = 0  # in-memory Arrow size, what `datasets` records as num_bytes
        self.download_bytes = 0  # Parquet size on disk

    def write(self, rows: list[Mapping[str, Any]]) -> None:
        pa, pq = _pyarrow()
        if self.schema is None:
            self.schema = infer_schema(rows)
        names = set(self.schema.names)
        for i, row in enumerate(rows):
            extra = set(row) - names
            if extra:
                raise ExportError(
                    f"split {self.split!r}, row {self.num_rows + i}: key(s) {sorted(extra)} "
                    f"are not in the schema inferred from the first rows ({self.schema.names})"
                )
        try:
            table = pa.Table.from_pylist(rows, schema=self.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            first, last = self.num_rows, self.num_rows + len(rows) - 1
            raise ExportError(
                f"split {self.split!r}, rows {first}-{last} do not match the schema inferred "
                f"from the first rows ({self.schema}): {exc}"
            ) from exc
        part = self.data_dir / f".{self.split}-{len(self.parts):05d}.part"
        pq.write_table(table, part)
        self.parts.append(part)
        self.num_rows += len(rows)
        self.num_bytes += table.nbytes
        self.download_bytes += part.stat().st_size

    def finish(self) -> list[Path]:
        """Rename the shards to `{split}-{i:05d}-of-{n:05d}.parquet`."""
        n = len(self.parts)
        final = []
        for i, part in enumerate(self.parts):
            path = self.data_dir / f"{self.split}-{i:05d}-of-{n:05d}.parquet"
            part.rename(path)
            final.append(path)
        return final


def export_dataset(
    rows_by_split: Mapping[str, Iterable[Mapping[str, Any]]],
    out_dir: str | os.PathLike[str],
    *,
    name: str,
    source_repo: str,
    source_commit: str,
    license: str,
    description: str,
    shard_rows: int = 50_000,
    lean_version: str | None = None,
    rewrite_model: str | None = None,
) -> Path:
    """Write a hub-ready dataset folder at `out_dir` atomically and return its path.

    Splits with no rows are left out. `lean_version` and `rewrite_model` (the LLM that
    rewrote the templated thoughts, if any) go into the card's account of how the data was made.
    An earlier export at `out_dir` is replaced; any other non-empty folder raises `ExportError`.
    """
    if shard_rows < 1:
        raise ExportError(f"shard_rows must be >= 1, got {shard_rows}")
    for split in rows_by_split:
        if not SPLIT_NAME.match(split):
            raise ExportError(f"split name {split!r} must be letters, digits or underscores")
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not _is_export(out))):
        raise ExportError(
            f"{out} exists and is not a leancot export (no {CARD_NAME} and {DATA_DIR}/); "
            "choose a new or empty directory"
        )
    _pyarrow()

    with atomic_dir(out) as tmp:
        data_dir = tmp / DATA_DIR
        data_dir.mkdir()
        schema = None
        counts: dict[str, int] = {}
        sizes: dict[str, tuple[int, int]] = {}
        for split, rows in rows_by_split.items():
            writer = _ShardWriter(data_dir, split, schema, shard_rows)
            batch: list[Mapping[str, Any]] = []
            for row in rows:
                if not isinstance(row, Mapping):
                    raise ExportError(f"split {split!r}: rows must be dicts, got {type(row)}")
                batch.append(row)
                if len(batch) >= shard_rows:
                    writer.write(batch)
                    batch = []
            if batch:
                writer.write(batch)
            schema = writer.schema
            writer.finish()
            if writer.num_rows:
                counts[split] = writer.num_rows
                sizes[split] = (writer.num_bytes, writer.download_bytes)
        if not counts:
            raise ExportError("no rows to export: every split is empty")
        card = render_card(
            name=name,
            description=description,
            features=schema_features(schema),
            counts=counts,
            sizes=sizes,
            source_repo=source_repo,
            source_commit=source_commit,
            license=license,
            lean_version=lean_version,
            rewrite_model=rewrite_model,
        )
        (tmp / CARD_NAME).write_text(card, encoding="utf-8")  # last: marks the folder complete
    return out


def _is_export(folder: Path) -> bool:
    return (folder / CARD_NAME).is_file() and (folder / DATA_DIR).is_dir()


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
   fields).
2. Each step got a chain-of-thought explanation from a fixed template over the states and the
   tactic. {rewrite}
3. Splits are deterministic: a theorem's split follows from a hash of its full name.

## License

The data is released under `{license}`; the source repository's own licence applies to the
Lean code it contains.
"""


def push_to_hub(
    folder: str | os.PathLike[str],
    repo_id: str,
    *,
    token: str | None = None,
    private: bool = False,
) -> str:
    """Upload an exported folder to the dataset repo `repo_id` and return the repo's URL.

    The token is `token`, else env `HF_TOKEN` (or a saved `hf auth login`). The hub address
    follows env `HF_ENDPOINT`. Raises `HubError` without changing `folder` when the hub cannot
    be reached or refuses the token.
    """
    path = Path(folder)
    if not _is_export(path):
        raise ExportError(f"{path} is not a finished export (no {CARD_NAME} and {DATA_DIR}/)")
    intact = f"the dataset is intact at {path}"
    try:
        import huggingface_hub
        from huggingface_hub import HfApi
        from huggingface_hub.errors import HfHubHTTPError
    except ImportError as exc:
        raise HubError(f"huggingface_hub is not installed; {_INSTALL_HINT}; {intact}") from exc
    token = token or os.environ.get("HF_TOKEN") or huggingface_hub.get_token()
    if not token:
        raise HubError(
            f"no Hugging Face token: set HF_TOKEN or pass token= (a write token from "
            f"https://huggingface.co/settings/tokens); {intact}"
        )
    endpoint = os.environ.get("HF_ENDPOINT") or None
    where = endpoint or "https://huggingface.co"
    api = HfApi(endpoint=endpoint, token=token)
    try:
        url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        api.upload_folder(
            repo_id=repo_id,
            folder_path=str(path),
            repo_type="dataset",
            commit_message=f"Upload {path.name} with leancot export",
        )
    except HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status in (401, 403):
            raise HubError(
                f"the Hugging Face hub at {where} refused the token for {repo_id} "
                f"(HTTP {status}); use a token with write access; {intact}"
            ) from exc
        raise HubError(f"the Hugging Face hub at {where} failed: {exc}; {intact}") from exc
    except ValueError as exc:  # e.g. HFValidationError for a malformed repo id
        raise HubError(f"cannot push to {repo_id!r}: {exc}; {intact}") from exc
    except Exception as exc:  # network layer errors differ between hub client versions
        raise HubError(
            f"could not reach the Hugging Face hub at {where} ({type(exc).__name__}: {exc}); "
            f"{intact}"
        ) from exc
    return str(url)
