"""The `leancot` command line: help, wiring of the stages, exit codes (no Lean, no training)."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from leancot import __version__, cli
from leancot.extract.dataset import read_benchmark, write_benchmark

SUBCOMMANDS = [
    ["setup"],
    ["doctor"],
    ["check"],
    ["extract"],
    ["translate"],
    ["export"],
    ["train"],
    ["evaluate"],
]
TRAINERS = ["policy", "prm", "dpo", "retriever"]


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def help_text(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        cli.main([*argv, "--help"])
    assert exc.value.code == 0
    return capsys.readouterr().out


# --- help and version ----------------------------------------------------------------------------


def test_top_level_help_lists_the_pipeline(capsys):
    text = help_text(capsys, [])
    for name in ("setup", "doctor", "check", "extract", "translate", "export", "train", "evaluate"):
        assert name in text
    assert "pipeline" in text
    assert "leancot translate traced/ -o cot/" in text


@pytest.mark.parametrize("argv", SUBCOMMANDS, ids=lambda a: " ".join(a))
def test_subcommand_help_names_inputs_and_outputs(capsys, argv):
    text = help_text(capsys, argv)
    assert "input:" in text
    assert "output:" in text


@pytest.mark.parametrize("trainer", TRAINERS)
def test_trainer_help_names_data_and_output_dir(capsys, trainer):
    text = help_text(capsys, ["train", trainer])
    assert "input files or folders" in text
    assert "--output-dir" in text


def test_no_command_prints_help(capsys):
    code, out, _ = run(capsys, [])
    assert code == 2
    assert "COMMAND" in out


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"leancot {__version__}"


def test_parser_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from leancot.cli import build_parser\n"
        "build_parser().format_help()\n"
        "heavy = {'torch', 'transformers', 'trl', 'datasets', 'pyarrow', 'lean_dojo', 'vllm'}\n"
        "assert not heavy & set(sys.modules), heavy & set(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- doctor, check -------------------------------------------------------------------------------


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("LEANCOT_CACHE_DIR", str(cache))
    return cache


def test_doctor_reports_backends(capsys, empty_cache):
    code, out, _ = run(capsys, ["doctor"])
    assert code in (0, 1)  # 1 when no backend is usable on this machine
    assert f"leancot {__version__}" in out
    assert "not usable" in out  # the empty cache has no embedded Lean
    assert "usable backends:" in out


def test_check_without_install_says_run_setup(capsys, empty_cache, tmp_path):
    lean = tmp_path / "a.lean"
    lean.write_text("theorem t : 1 = 1 := rfl\n", encoding="utf-8")
    code, _, err = run(capsys, ["check", str(lean)])
    assert code == 1
    assert "error:" in err
    assert "leancot setup" in err


def test_check_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, ["check", str(tmp_path / "nope.lean")])
    assert code == 2
    assert "no such file" in err


# --- extract -------------------------------------------------------------------------------------


def fake_extractor(monkeypatch, failures=()):
    """Stand in for leancot.extract.extractor; record the config main() gets."""
    seen = {}
    module = types.ModuleType("leancot.extract.extractor")

    class ExtractConfig:
        def __init__(self, **kwargs):
            self.__dict__.update(kwargs)

    def main(config, progress=True):
        seen["config"], seen["progress"] = config, progress
        return types.SimpleNamespace(
            out_dir=config.out_dir,
            files_ok=3,
            files_failed=tuple(failures),
            theorems=7,
            tactics=21,
            seconds=1.5,
        )

    module.ExtractConfig, module.main = ExtractConfig, main
    monkeypatch.setitem(sys.modules, "leancot.extract.extractor", module)
    import leancot.extract

    monkeypatch.setattr(leancot.extract, "extractor", module, raising=False)
    return seen


def test_extract_fills_the_config(capsys, monkeypatch, tmp_path):
    seen = fake_extractor(monkeypatch)
    argv = ["extract", str(tmp_path / "Src"), "-o", str(tmp_path / "out"), "--backend", "native"]
    argv += ["--include", "A/*.lean", "B/**/*.lean", "--timeout", "30", "--no-resume", "--quiet"]
    code, out, _ = run(capsys, argv)
    assert code == 0
    config = seen["config"]
    assert config.source == tmp_path / "Src"
    assert config.out_dir == tmp_path / "out"
    assert config.backend == "native"
    assert config.include == ("A/*.lean", "B/**/*.lean")
    assert config.timeout == 30.0
    assert config.resume is False
    assert config.url is None and config.commit is None
    assert seen["progress"] is False
    assert "7 theorems, 21 tactics from 3 files" in out


def test_extract_defaults(capsys, monkeypatch, tmp_path):
    seen = fake_extractor(monkeypatch)
    assert run(capsys, ["extract", "-o", str(tmp_path / "out")])[0] == 0
    config = seen["config"]
    assert config.source is None  # the bundled corpus
    assert config.backend == "wasm"
    assert config.resume is True
    assert not hasattr(config, "include")  # the extractor's own default
    assert seen["progress"] is True


def test_extract_failed_files_exit_1(capsys, monkeypatch, tmp_path):
    failure = types.SimpleNamespace(path="Foo.lean", line=3, message="unknown identifier 'x'")
    fake_extractor(monkeypatch, failures=[failure, failure])
    code, out, _ = run(capsys, ["extract", "-o", str(tmp_path / "out")])
    assert code == 1
    assert "FAIL Foo.lean:3: unknown identifier 'x'" in out
    assert "1 file(s) failed" in out


def test_extract_repo_needs_leandojo(capsys, tmp_path):
    code, _, err = run(capsys, ["extract", "-o", str(tmp_path), "--repo", "https://x/y"])
    assert code == 1
    assert "--backend leandojo" in err


def test_extract_leandojo_needs_repo_and_commit(capsys, tmp_path):
    code, _, err = run(capsys, ["extract", "-o", str(tmp_path), "--backend", "leandojo"])
    assert code == 1
    assert "--repo URL and --commit SHA" in err


def test_extract_leandojo_unavailable_is_a_clean_error(capsys, monkeypatch, tmp_path):
    from leancot.extract import leandojo

    calls = []

    def unavailable(url, commit, out_dir, **kwargs):
        calls.append((url, commit, out_dir, kwargs))
        raise leandojo.LeanDojoUnavailable(f"cannot trace {url} with LeanDojo:\n- git is missing")

    monkeypatch.setattr(leandojo, "trace_with_leandojo", unavailable)
    argv = ["extract", "-o", str(tmp_path / "o"), "--backend", "leandojo"]
    argv += ["--repo", "https://github.com/o/r", "--commit", "abc", "--include-dependencies"]
    code, out, err = run(capsys, argv)
    assert code == 1
    assert calls == [
        ("https://github.com/o/r", "abc", tmp_path / "o", {"include_dependencies": True})
    ]
    assert "error: cannot trace https://github.com/o/r with LeanDojo" in err
    assert "- git is missing" in err
    assert "Traceback" not in out + err


def test_extract_leandojo_writes_the_benchmark(capsys, monkeypatch, tmp_path):
    from leancot.extract import leandojo

    def trace(url, commit, out_dir, **kwargs):
        return write_benchmark(out_dir, THEOREMS[:3], [], {"from_repo": {"url": url}})

    monkeypatch.setattr(leandojo, "trace_with_leandojo", trace)
    argv = ["extract", "-o", str(tmp_path / "o"), "--backend", "leandojo"]
    code, out, _ = run(capsys, [*argv, "--repo", "https://github.com/o/r", "--commit", "abc"])
    assert code == 0
    assert "3 theorems, 6 tactics" in out


# --- translate -----------------------------------------------------------------------------------


def theorem(i: int) -> dict:
    name = f"Demo.thm{i}"
    return {
        "url": "https://github.com/owner/repo",
        "commit": "c" * 40,
        "file_path": "Demo.lean",
        "full_name": name,
        "start": [1 + 3 * i, 0],
        "end": [3 + 3 * i, 10],
        "traced_tactics": [
            {
                "tactic": "intro n",
                "annotated_tactic": ["intro n", []],
                "state_before": "⊢ ∀ (n : Nat), n + 0 = n",
                "state_after": "n : Nat\n⊢ n + 0 = n",
            },
            {
                "tactic": "simp",
                "annotated_tactic": ["simp", [{"full_name": "Nat.add_zero", "def_path": ""}]],
                "state_before": "n : Nat\n⊢ n + 0 = n",
                "state_after": "no goals",
                "depth": 1,
            },
        ],
        "statement": f"theorem thm{i} : ∀ (n : Nat), n + 0 = n",
        "proof": "by\n  intro n\n  simp",
    }


THEOREMS = [theorem(i) for i in range(30)]
META = {"from_repo": {"url": "https://github.com/owner/repo", "commit": "c" * 40}}


@pytest.fixture
def traced(tmp_path) -> Path:
    return write_benchmark(tmp_path / "traced", THEOREMS, [], {**META, "lean_version": "4.28.0"})


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_translate_writes_three_corpora_and_a_manifest(capsys, traced, tmp_path):
    out_dir = tmp_path / "cot"
    code, out, _ = run(capsys, ["translate", str(traced), "-o", str(out_dir)])
    assert code == 0
    splits = {t["full_name"]: s for s, ts in read_benchmark(traced).items() for t in ts}

    steps = read_jsonl(out_dir / "step_records.jsonl")
    assert len(steps) == 2 * len(THEOREMS)
    assert all(r["split"] == splits[r["full_name"]] for r in steps)
    assert {r["tactic"] for r in steps} == {"intro n", "simp"}
    assert all(r["thought"] and r["verified"] for r in steps)

    star = read_jsonl(out_dir / "lean_star.jsonl")
    assert [(r["state"], r["tactic"]) for r in star] == [
        (r["state_before"], r["tactic"]) for r in steps
    ]

    docs = read_jsonl(out_dir / "proofs.jsonl")
    assert sorted(d["full_name"] for d in docs) == sorted(splits)
    assert all(len(d["steps"]) == 2 and "simp" in d["text"] for d in docs)

    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["from_repo"] == META["from_repo"]
    assert manifest["lean_version"] == "4.28.0"
    assert manifest["rewrite"] is None
    counts = manifest["files"]["step_records.jsonl"]
    assert sum(counts.values()) == len(steps)
    assert counts["train"] == 2 * sum(s == "train" for s in splits.values())
    assert f"{len(steps)} rows" in out


def test_translate_max_depth_and_novel_premises(capsys, traced, tmp_path):
    out_dir = tmp_path / "cot"
    argv = ["translate", str(traced), "-o", str(out_dir), "--max-depth", "0"]
    assert run(capsys, [*argv, "--split-strategy", "novel_premises"])[0] == 0
    steps = read_jsonl(out_dir / "step_records.jsonl")
    assert [r["tactic"] for r in steps] == ["intro n"] * len(THEOREMS)
    novel = {
        t["full_name"]: s for s, ts in read_benchmark(traced, "novel_premises").items() for t in ts
    }
    assert all(r["split"] == novel[r["full_name"]] for r in steps)


def test_translate_rejects_a_folder_that_is_not_a_dataset(capsys, tmp_path):
    code, _, err = run(capsys, ["translate", str(tmp_path), "-o", str(tmp_path / "cot")])
    assert code == 1
    assert "not a finished benchmark" in err


def test_translate_model_without_rewrite(capsys, traced, tmp_path):
    code, _, err = run(
        capsys, ["translate", str(traced), "-o", str(tmp_path / "c"), "--model", "m"]
    )
    assert code == 1
    assert "--rewrite" in err


def test_translate_rewrite_http_needs_endpoint(capsys, traced, tmp_path):
    argv = ["translate", str(traced), "-o", str(tmp_path / "c"), "--rewrite", "http"]
    code, _, err = run(capsys, [*argv, "--model", "m"])
    assert code == 1
    assert "endpoint" in err


def test_translate_rewrite_needs_a_model(capsys, traced, tmp_path):
    code, _, err = run(capsys, ["translate", str(traced), "-o", str(tmp_path), "--rewrite", "hf"])
    assert code == 1
    assert "`model` is required" in err


def without_rewrite_module(monkeypatch):
    import leancot.translate

    monkeypatch.delattr(leancot.translate, "rewrite", raising=False)
    monkeypatch.setitem(sys.modules, "leancot.translate.rewrite", None)  # import fails


def test_translate_rewrite_without_the_module_is_a_clear_error(
    capsys, monkeypatch, traced, tmp_path
):
    without_rewrite_module(monkeypatch)
    out_dir = tmp_path / "c"
    argv = ["translate", str(traced), "-o", str(out_dir), "--rewrite", "hf", "--model", "gpt2"]
    code, _, err = run(capsys, argv)
    assert code == 1
    assert "--rewrite is not available" in err
    assert not out_dir.exists()  # checked before any work


def test_translate_rewrite_replaces_thoughts(capsys, monkeypatch, traced, tmp_path):
    from leancot.translate import rewrite

    seen = {}

    def rewrite_records(records, config, *, backend=None, progress=True):
        seen["config"], seen["progress"] = config, progress
        for i, r in enumerate(records):
            ok = i % 2 == 0
            thought = "REWRITTEN " + r["thought"] if ok else r["thought"]
            yield {**r, "thought": thought, "rewrite_status": "ok" if ok else "fallback"}

    monkeypatch.setattr(rewrite, "rewrite_records", rewrite_records)
    yaml_file = tmp_path / "rw.yaml"
    yaml_file.write_text("batch_size: 3\ntemperature: 0.5\nmodel: from-yaml\n", encoding="utf-8")
    out_dir = tmp_path / "c"
    argv = ["translate", str(traced), "-o", str(out_dir), "--rewrite", "http", "--quiet"]
    argv += ["--model", "qwen", "--endpoint", "http://localhost:8000/v1"]
    code, out, _ = run(capsys, [*argv, "--rewrite-config", str(yaml_file)])
    assert code == 0
    config = seen["config"]
    assert isinstance(config, rewrite.RewriteConfig)
    assert (config.backend, config.model, config.endpoint) == (
        "http",
        "qwen",
        "http://localhost:8000/v1",
    )
    assert (config.batch_size, config.temperature) == (3, 0.5)
    assert config.cache_path == str(out_dir / "rewrite_cache.jsonl")
    assert seen["progress"] is False
    steps = read_jsonl(out_dir / "step_records.jsonl")
    star = read_jsonl(out_dir / "lean_star.jsonl")
    assert [r["thought"] for r in star] == [r["thought"] for r in steps]
    assert sum(r["thought"].startswith("REWRITTEN ") for r in steps) == len(THEOREMS)
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rewrite"] == {
        "backend": "http",
        "model": "qwen",
        "endpoint": "http://localhost:8000/v1",
        "rewritten": len(THEOREMS),
        "fallback": len(THEOREMS),
    }
    assert f"{len(THEOREMS)} thoughts" in out


def test_translate_rewrite_unknown_config_field(capsys, traced, tmp_path):
    yaml_file = tmp_path / "rw.yaml"
    yaml_file.write_text("no_such_field: 1\n", encoding="utf-8")
    argv = ["translate", str(traced), "-o", str(tmp_path / "c"), "--rewrite", "hf"]
    code, _, err = run(capsys, [*argv, "--model", "m", "--rewrite-config", str(yaml_file)])
    assert code == 1
    assert "no_such_field" in err


def test_translate_rewrite_server_down_is_a_clean_error(capsys, traced, tmp_path):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    yaml_file = tmp_path / "rw.yaml"
    yaml_file.write_text("max_retries: 0\nbackoff_s: 0\ntimeout_s: 5\n", encoding="utf-8")
    out_dir = tmp_path / "c"
    argv = ["translate", str(traced), "-o", str(out_dir), "--rewrite", "http", "--quiet"]
    argv += ["--model", "m", "--endpoint", f"http://127.0.0.1:{port}/v1"]
    code, out, err = run(capsys, [*argv, "--rewrite-config", str(yaml_file)])
    assert code == 1
    assert "rewriting the thoughts failed" in err
    assert "Traceback" not in out + err
    assert not (out_dir / "manifest.json").exists()


# --- export --------------------------------------------------------------------------------------


@pytest.fixture
def translated(capsys, traced, tmp_path) -> Path:
    out_dir = tmp_path / "cot"
    assert cli.main(["translate", str(traced), "-o", str(out_dir)]) == 0
    capsys.readouterr()
    return out_dir


@pytest.mark.parametrize("corpus", ["steps", "lean_star", "proofs"])
def test_export_round_trip(capsys, translated, tmp_path, corpus):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    import yaml

    file_name = cli.CORPUS_FILES[corpus]
    out_dir = tmp_path / "hub"
    argv = ["export", str(translated), "-o", str(out_dir), "--corpus", corpus, "--shard-rows", "8"]
    code, out, _ = run(capsys, argv)
    assert code == 0
    assert str(out_dir) in out

    rows = read_jsonl(translated / file_name)
    back = []
    for split in ("train", "val", "test"):
        shards = sorted((out_dir / "data").glob(f"{split}-*.parquet"))
        split_rows = [r for s in shards for r in pq.read_table(s).to_pylist()]
        assert split_rows == [r for r in rows if r["split"] == split]
        back += split_rows
    assert len(back) == len(rows)

    card = (out_dir / "README.md").read_text(encoding="utf-8")
    front = yaml.safe_load(card.split("---\n")[1])
    assert front["license"] == "apache-2.0"
    assert "owner/repo" in front["pretty_name"]
    assert "https://github.com/owner/repo" in card
    assert "Lean 4.28.0" in card
    counts = {s["name"]: s["num_examples"] for s in front["dataset_info"]["splits"]}
    assert sum(counts.values()) == len(rows)


def test_export_loads_with_datasets(capsys, translated, tmp_path):
    datasets = pytest.importorskip("datasets")
    out_dir = tmp_path / "hub"
    assert run(capsys, ["export", str(translated), "-o", str(out_dir)])[0] == 0
    loaded = datasets.load_dataset(str(out_dir))
    total = sum(len(loaded[s]) for s in loaded)
    assert total == len(read_jsonl(translated / "step_records.jsonl"))


def test_export_needs_a_translate_output(capsys, tmp_path):
    code, _, err = run(capsys, ["export", str(tmp_path), "-o", str(tmp_path / "hub")])
    assert code == 1
    assert "not a finished `leancot translate` output" in err
    assert f"-o {tmp_path}" in err


def test_export_push_failure_keeps_the_folder(capsys, monkeypatch, translated, tmp_path):
    pytest.importorskip("pyarrow")
    from leancot.translate import export

    def refuse(folder, repo_id, *, token=None, private=False):
        raise export.HubError(f"the hub refused the token for {repo_id}; intact at {folder}")

    monkeypatch.setattr(export, "push_to_hub", refuse)
    out_dir = tmp_path / "hub"
    argv = ["export", str(translated), "-o", str(out_dir), "--push", "me/lean-cot"]
    code, out, err = run(capsys, argv)
    assert code == 1
    assert "error: the hub refused the token for me/lean-cot" in err
    assert "Traceback" not in out + err
    assert (out_dir / "README.md").is_file()


def test_export_push_passes_repo_and_privacy(capsys, monkeypatch, translated, tmp_path):
    pytest.importorskip("pyarrow")
    from leancot.translate import export

    pushed = []

    def push(folder, repo_id, *, token=None, private=False):
        pushed.append((Path(folder), repo_id, private))
        return f"https://huggingface.co/datasets/{repo_id}"

    monkeypatch.setattr(export, "push_to_hub", push)
    out_dir = tmp_path / "hub"
    argv = ["export", str(translated), "-o", str(out_dir), "--push", "me/x", "--private"]
    code, out, _ = run(capsys, argv)
    assert code == 0
    assert pushed == [(out_dir, "me/x", True)]
    assert "pushed to https://huggingface.co/datasets/me/x" in out


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("https://github.com/owner/repo", "owner/repo"),
        ("git@github.com:owner/repo.git", "owner/repo"),
        ("local:/work/lean_project/LeanCot/Corpus", "Corpus"),
    ],
)
def test_repo_label(url, label):
    assert cli.repo_label(url) == label


# --- train, evaluate -----------------------------------------------------------------------------


def test_train_and_evaluate_are_wired():
    parser = cli.build_parser()
    args = parser.parse_args(["train", "policy", "cot/step_records.jsonl", "--output-dir", "p"])
    assert args.trainer == "policy" and callable(args.handler)
    args = parser.parse_args(["evaluate", "cot/", "--policy", "p"])
    assert callable(args.handler)


def test_evaluate_without_data_is_a_clean_error(capsys):
    code, _, err = run(capsys, ["evaluate", "--policy", "p"])
    assert code == 1
    assert "error:" in err
