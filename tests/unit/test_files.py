"""Atomic writes, JSON lines, folder replacement and digests (leancot/files.py)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from leancot import files
from leancot.files import (
    append_jsonl,
    atomic_dir,
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    drop_partial_tail,
    iter_jsonl,
    open_jsonl_log,
    read_jsonl,
    read_jsonl_log,
    replace_dir,
    sha256_file,
    sha256_hex,
    write_json,
    write_jsonl,
)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- atomic writes -------------------------------------------------------------------------------


def test_atomic_text_and_bytes_replace_the_file(tmp_path):
    path = tmp_path / "sub" / "a.txt"
    atomic_write_text(path, "één\n")
    assert path.read_text(encoding="utf-8") == "één\n"
    atomic_write_bytes(path, b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    assert names(path.parent) == ["a.txt"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "a.txt"
    atomic_write_text(path, "old")
    monkeypatch.setattr(files.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(path, "new")
    assert path.read_text() == "old"
    assert names(tmp_path) == ["a.txt"]


def test_new_files_get_the_umask_mode_like_open(tmp_path):
    atomic_write_text(tmp_path / "atomic", "x")
    (tmp_path / "plain").write_text("x")
    assert os.stat(tmp_path / "atomic").st_mode == os.stat(tmp_path / "plain").st_mode


def test_write_json_is_utf8_indented_with_a_final_newline(tmp_path):
    path = tmp_path / "m.json"
    write_json(path, {"goal": "⊢ p", "n": [1]})
    assert path.read_text(encoding="utf-8") == '{\n  "goal": "⊢ p",\n  "n": [\n    1\n  ]\n}\n'
    write_json(path, {"p": Path("x")}, indent=None, default=str)
    assert path.read_text(encoding="utf-8") == '{"p": "x"}\n'
    with pytest.raises(TypeError):
        write_json(path, {"p": Path("x")})
    assert json.loads(path.read_text()) == {"p": "x"}
    assert names(tmp_path) == ["m.json"]


def test_atomic_path_renames_on_success_and_removes_on_error(tmp_path):
    path = tmp_path / "plot.png"
    with atomic_path(path, suffix=".png") as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".png" and not tmp.exists()
        tmp.write_bytes(b"png")
    assert path.read_bytes() == b"png"
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("savefig failed")
    assert path.read_bytes() == b"png"
    assert names(tmp_path) == ["plot.png"]


# --- JSON lines ----------------------------------------------------------------------------------

ROWS = [{"state": "x : ℕ\n⊢ x = x", "tactic": "rfl"}, {"n": 2, "list": [1, None]}]


def test_jsonl_round_trip_streams_and_counts(tmp_path):
    path = tmp_path / "sub" / "rows.jsonl"
    assert write_jsonl(path, iter(ROWS)) == 2
    text = path.read_text(encoding="utf-8")
    assert text.count("\n") == 2 and "⊢" in text  # one line per row, not \u-escaped
    assert read_jsonl(path) == ROWS
    assert list(iter_jsonl(path)) == ROWS
    assert names(path.parent) == ["rows.jsonl"]


def test_write_jsonl_failure_keeps_the_old_file_and_no_temp(tmp_path):
    path = tmp_path / "rows.jsonl"
    write_jsonl(path, [{"a": 1}])

    def broken():
        yield {"a": 2}
        raise RuntimeError("source failed")

    with pytest.raises(RuntimeError):
        write_jsonl(path, broken())
    assert path.read_text() == '{"a": 1}\n'
    assert names(tmp_path) == ["rows.jsonl"]


def test_read_jsonl_skips_blank_lines_and_names_a_bad_line(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"a": 1}\n\n  \n{"a": 2}\nnot json\n')
    with pytest.raises(ValueError, match=r"r.jsonl:5: not valid JSON"):
        read_jsonl(path)

    class StageError(ValueError):
        pass

    with pytest.raises(StageError, match=r"r.jsonl:5"):
        read_jsonl(path, error=StageError)
    path.write_text('{"a": 1}\n\n{"a": 2}\n')
    assert read_jsonl(path) == [{"a": 1}, {"a": 2}]


def test_append_only_log_survives_a_killed_writer(tmp_path):
    path = tmp_path / "logs" / "search.jsonl"
    assert read_jsonl_log(path) == []
    with open_jsonl_log(path) as f:
        append_jsonl(f, {"full_name": "A"})
        append_jsonl(f, {"full_name": "B"})
    with path.open("a", encoding="utf-8") as f:
        f.write('[1, 2]\nnot json\n{"full_name": "C", "pro')  # a list, garbage, a cut-off line
    assert [r["full_name"] for r in read_jsonl_log(path)] == ["A", "B"]
    with open_jsonl_log(path) as f:  # cuts the partial line before appending
        append_jsonl(f, {"full_name": "D"})
    assert [r["full_name"] for r in read_jsonl_log(path)] == ["A", "B", "D"]
    assert path.read_text().endswith('\n{"full_name": "D"}\n')


def test_drop_partial_tail_keeps_a_complete_file(tmp_path):
    path = tmp_path / "log.jsonl"
    drop_partial_tail(path)  # missing: nothing to do
    path.write_text("")
    drop_partial_tail(path)
    path.write_text('{"a": 1}\n')
    drop_partial_tail(path)
    assert path.read_text() == '{"a": 1}\n'
    path.write_text('{"a": 1')
    drop_partial_tail(path)
    assert path.read_text() == ""


# --- folders -------------------------------------------------------------------------------------


def test_atomic_dir_builds_beside_and_replaces_the_old_folder(tmp_path):
    out = tmp_path / "bench"
    with atomic_dir(out) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".bench.tmp-")
        (tmp / "old.txt").write_text("1")
    assert names(out) == ["old.txt"]
    with atomic_dir(out) as tmp:
        (tmp / "new.txt").write_text("2")
        assert names(out) == ["old.txt"]  # readers see the old folder until the block ends
    assert names(out) == ["new.txt"]
    assert names(tmp_path) == ["bench"]


def test_atomic_dir_error_keeps_the_old_folder_and_removes_the_temp(tmp_path):
    out = tmp_path / "bench"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    with pytest.raises(RuntimeError), atomic_dir(out) as tmp:
        (tmp / "half.txt").write_text("x")
        raise RuntimeError("stage failed")
    assert names(out) == ["keep.txt"]
    assert names(tmp_path) == ["bench"]


def test_replace_dir_restores_the_old_folder_when_the_move_fails(tmp_path, monkeypatch):
    src, dst = tmp_path / "new", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    (dst / "old.txt").write_text("old")
    real_rename = Path.rename

    def rename(self, target):
        if self == src:
            raise OSError("cross-device")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OSError, match="cross-device"):
        replace_dir(src, dst)
    assert names(dst) == ["old.txt"]
    assert names(tmp_path) == ["dst", "new"]


def test_replace_dir_into_a_new_place(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("x")
    replace_dir(src, tmp_path / "dst")
    assert names(tmp_path) == ["dst"] and names(tmp_path / "dst") == ["f"]


# --- digests ----------------------------------------------------------------------------------


def test_digests(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(b"x" * (3 << 20))
    assert sha256_file(path) == hashlib.sha256(b"x" * (3 << 20)).hexdigest()
    assert sha256_hex("⊢") == hashlib.sha256("⊢".encode()).hexdigest()
    assert sha256_hex(b"ab", 16) == hashlib.sha256(b"ab").hexdigest()[:16]


def test_keyed_jsonl_appends_rows_and_skips_a_line_cut_short(tmp_path):
    from leancot.files import KeyedJsonl

    path = tmp_path / "sub" / "cache.jsonl"
    cache = KeyedJsonl(path)
    cache.add_all([{"name": "a", "v": 1}, {"name": "b", "v": 2}])
    cache.add_all([{"name": "a", "v": 3}])
    with path.open("a", encoding="utf-8") as f:
        f.write('{"name": "c", "v"')  # an interrupted write
    again = KeyedJsonl(path)
    assert again.entries == {"a": {"name": "a", "v": 3}, "b": {"name": "b", "v": 2}}
    assert KeyedJsonl(path, key="v").entries.keys() == {1, 2, 3}
