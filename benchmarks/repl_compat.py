"""leancot's REPL against the test suite of leanprover-community/repl.

Usage: python benchmarks/repl_compat.py --community-tests DIR [--json] [--fresh] [--only NAME ...]

DIR is the `test/` folder of a checkout of https://github.com/leanprover-community/repl (leancot
ships none of its files). Each `NAME.in` with a `NAME.expected.out` is a case; cases that import
Mathlib, or lie in subfolders (`test/Mathlib/`), are not runnable on leancot's core-only Lean and
are skipped. The requests of a case go to our REPL in its default, community protocol (bare JSON
objects separated by blank lines; see lean_project/LeanCot/Repl.lean) and each reply is compared
field by field with the expected one, after this normalisation (leancot/lean/transcript.py):
strings are trimmed; `declaration uses 'sorry'` reads ``declaration uses `sorry` `` and
`unknown identifier 'x'` reads ``Unknown identifier `x` `` (wording that changed between Lean
versions); empty `messages`/`sorries`/`tactics`/`traces` lists count as absent; the extra fields
leancot adds to `allTactics` entries (`kind, decl, goalsBefore, goalsAfter, constants`) are
allowed. Any other missing, extra or different field fails the case.

By default all cases share one REPL process (one start-up, ~30 s under WASM): before each case a
probe command takes the next env and proof state, and every handle of the case is shifted by them
(transcript.Offsets). `--fresh` starts a process per case instead. A file request's `path` is read
relative to DIR's parent (the community REPL's tests run from the repository root) and pickle
files go to a temporary folder under /tmp, by file name (a later case reads what an earlier one
wrote, as in the community REPL's own run); the WASM Lean runs unsandboxed for that (the tests are
trusted text).

With --json, stdout is one JSON object: `community_repl_pass` ("passed/runnable"), `passed`,
`runnable`, `pass_rate`, `skipped` and `failing` (case → its differences).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leancot.lean import wasm_backend
from leancot.lean.backends import PROTOCOLS, Backend, native_backend
from leancot.lean.results import Crashed, Timeout
from leancot.lean.supervisor import ReplSupervisor
from leancot.lean.transcript import (
    Offsets,
    differences,
    normalise,
    parse_replies,
    parse_requests,
    probe_offsets,
    shift,
)

PICKLE_KEYS = ("pickleTo", "unpickleEnvFrom", "unpickleProofStateFrom")


@dataclass
class Case:
    name: str
    requests: list[dict[str, Any]]
    expected: list[dict[str, Any]]
    differences: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.differences


def load_cases(folder: Path, only: list[str] | None = None) -> tuple[list[Case], list[str]]:
    """The runnable cases of `folder` and the names of those skipped (with why)."""
    cases, skipped = [], []
    for source in sorted(folder.glob("*.in")):
        name = source.name.removesuffix(".in")
        if only and name not in only:
            continue
        expected = folder / f"{name}.expected.out"
        text = source.read_text(encoding="utf-8")
        if not expected.is_file():
            skipped.append(f"{name} (no expected output)")
        elif "Mathlib" in text:
            skipped.append(f"{name} (needs Mathlib)")
        else:
            cases.append(
                Case(
                    name,
                    parse_requests(text, str(source)),
                    parse_replies(expected.read_text(encoding="utf-8"), str(expected)),
                )
            )
    return cases, skipped


def localise(request: dict[str, Any], root: Path, pickles: Path, case: str) -> dict[str, Any]:
    """The request with its file paths made absolute: `path` under `root`, pickle files under
    `pickles` (by file name, so that a later case can read what an earlier one wrote, as in the
    community REPL's own test run)."""
    out = dict(request)
    if isinstance(out.get("path"), str):
        out["path"] = str((root / out["path"]).resolve())
    for key in PICKLE_KEYS:
        if isinstance(out.get(key), str):
            out[key] = str(pickles / Path(out[key]).name)
    return out


def run_case(
    case: Case,
    request: Callable[[dict[str, Any]], Any],
    root: Path,
    pickles: Path,
    fresh: bool,
) -> None:
    offsets = Offsets() if fresh else probe_offsets(request)
    got: list[Any] = []
    for req in case.requests:
        reply = request(shift(localise(req, root, pickles, case.name), offsets, +1))
        got.append(shift(reply, offsets, -1) if isinstance(reply, dict) else repr(reply))
    if len(got) != len(case.expected):
        case.differences.append(f"{len(got)} replies, expected {len(case.expected)}")
    for k, (g, w) in enumerate(zip(got, case.expected, strict=False)):
        if not isinstance(g, dict):
            case.differences.append(f"reply {k + 1}: {g}")
            continue
        case.differences.extend(
            f"reply {k + 1}{d}" for d in differences(normalise(g), normalise(w))
        )


def make_backend(name: str, protocol: str, mounts: list[Path]) -> Backend:
    if name == "wasm":
        # the community tests are trusted text; pickles are written under the host's /tmp
        return wasm_backend(mounts=mounts, protocol=protocol, sandbox=False)
    if name == "native":
        return native_backend(protocol=protocol)
    raise ValueError(f"unknown backend {name!r}; expected wasm or native")


def run(
    folder: Path,
    *,
    backend: str = "wasm",
    protocol: str = "community",
    fresh: bool = False,
    only: list[str] | None = None,
    timeout: float = 120.0,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    folder = folder.resolve()
    cases, skipped = load_cases(folder, only)
    with tempfile.TemporaryDirectory(prefix="repl-compat-") as tmp:
        pickles = Path(tmp)
        made = make_backend(backend, protocol, [folder.parent, pickles])
        server: ReplSupervisor | None = None
        try:
            for case in cases:
                if server is None or fresh:
                    if server is not None:
                        server.close()
                    server = ReplSupervisor(made, request_timeout=timeout)
                    server.start()
                started = time.monotonic()

                def request(obj: dict[str, Any], srv: ReplSupervisor = server) -> Any:
                    reply = srv.request(obj)
                    if isinstance(reply, (Timeout, Crashed)):
                        return f"{type(reply).__name__}: {reply}"
                    return reply

                try:
                    run_case(case, request, folder.parent, pickles, fresh)
                except AssertionError as e:
                    case.differences.append(str(e))
                verdict = "pass" if case.passed else "FAIL " + "; ".join(case.differences[:2])
                progress(f"{case.name}: {verdict} ({time.monotonic() - started:.1f} s)")
        finally:
            if server is not None:
                server.close()
    passed = sum(c.passed for c in cases)
    return {
        "community_repl_pass": f"{passed}/{len(cases)}",
        "passed": passed,
        "runnable": len(cases),
        "pass_rate": round(passed / len(cases), 4) if cases else 0.0,
        "skipped": skipped,
        "failing": {c.name: c.differences for c in cases if not c.passed},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--community-tests", type=Path, required=True, metavar="DIR")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--fresh", action="store_true", help="one REPL process per case")
    parser.add_argument("--only", nargs="*", help="run only these cases")
    parser.add_argument("--backend", choices=("wasm", "native"), default="wasm")
    parser.add_argument("--protocol", choices=PROTOCOLS, default="community")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    args = parser.parse_args(argv)
    if not args.community_tests.is_dir():
        parser.error(f"{args.community_tests} is not a folder (the community REPL's test/)")
    report = run(
        args.community_tests,
        backend=args.backend,
        protocol=args.protocol,
        fresh=args.fresh,
        only=args.only,
        timeout=args.timeout,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(f"community_repl_pass {report['community_repl_pass']} ({report['pass_rate']:.0%})")
        for name, diffs in report["failing"].items():
            print(f"  {name}: {'; '.join(diffs[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
