"""`leancot export`: CoT rows to a Hugging Face hub-ready dataset folder, and an optional push.

`export_dataset` streams each split into Parquet shards `data/{split}-00000-of-0000N.parquet`
(`parquet_shards`: one Arrow schema for all splits, inferred from the first rows) and writes a
`README.md` dataset card (`dataset_card`) whose YAML front matter declares the configs,
features, licence and size, so `datasets.load_dataset(folder)` and the hub read it as is. The
folder is built under a temporary name and renamed into place; README.md is written last.
`push_to_hub` uploads a finished folder and, when the hub cannot be reached, says so without
touching it. Needs pyarrow (and huggingface_hub for the push): `pip install 'leancot[train]'`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from leancot.files import atomic_dir
from leancot.translate.dataset_card import CARD_NAME, render_card
from leancot.translate.parquet_shards import (
    DATA_DIR,
    EXPORT_INSTALL_HINT,
    ExportError,
    ShardWriter,
    import_pyarrow,
    schema_features,
)

__all__ = [  # the export and the push; ExportError re-exported (both raise it)
    "CARD_NAME",
    "DATA_DIR",
    "ExportError",
    "HubError",
    "export_dataset",
    "push_to_hub",
]

SPLIT_NAME = re.compile(r"^[A-Za-z0-9_]+$")


class HubError(RuntimeError):
    """Pushing to the Hugging Face hub failed; the local folder is untouched."""


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
    import_pyarrow()

    with atomic_dir(out) as tmp:
        data_dir = tmp / DATA_DIR
        data_dir.mkdir()
        schema = None
        counts: dict[str, int] = {}
        sizes: dict[str, tuple[int, int]] = {}
        for split, rows in rows_by_split.items():
            writer = ShardWriter(data_dir, split, schema, shard_rows)
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
        raise HubError(
            f"huggingface_hub is not installed; {EXPORT_INSTALL_HINT}; {intact}"
        ) from exc
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
