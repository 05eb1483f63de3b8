"""Rows to Parquet shards for `leancot export`: one Arrow schema inferred from the first rows
(`infer_schema`), its `datasets` feature list for the dataset card (`schema_features`), and
`ShardWriter`, which writes one split into `data/{split}-0000i-of-0000n.parquet`.

Needs pyarrow (`pip install 'leancot[train]'`); `import_pyarrow` says so when it is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

DATA_DIR = "data"  # the shards' folder inside an export
EXPORT_INSTALL_HINT = "install the export dependencies: pip install 'leancot[train]'"


class ExportError(ValueError):
    """Rows that cannot be exported (bad split name, rows not matching the schema, no rows)."""


def import_pyarrow() -> tuple[Any, Any]:
    """`(pyarrow, pyarrow.parquet)`, or `ExportError` saying how to install them."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ExportError(f"pyarrow is not installed; {EXPORT_INSTALL_HINT}") from exc
    return pa, pq


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
    pa, _ = import_pyarrow()
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
    pa, _ = import_pyarrow()
    return [{"name": f.name, **_feature(pa, f.type)} for f in schema]


class ShardWriter:
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
        pa, pq = import_pyarrow()
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
