"""How to start a Lean REPL process: the embedded WASM Lean, a native Lean, or the community REPL.

The WASM and native backends run our REPL. It speaks the community REPL's protocol unless
`PROTOCOL_ENV=leancot` is set in its environment, which these backends do by default
(`protocol="leancot"`: marker framing with nonces, a ready line, `autoImplicit false`; see
Repl.lean); `protocol="community"` runs it exactly as a user of `lean_project/` gets it. Its code is
the module `lean_project/LeanCot/Repl.lean`, which has no `#eval` (so `lake build` only compiles
it). The WASM backend starts `lean` on the runner of the REPL's image when one is built for this
REPL and install (`leancot.lean.image`: the module compiled once, no elaboration at start), else
on its elaborated runner, a copy with `#eval LeanCot.Repl.main` appended, written once per content
under the cache (`repl_runner`). The WASM build can run nothing else: no `IO` entry point, no
`lean --run`. With a native toolchain the same
REPL is also the executable `lake exe leancot-repl` (`LeanCot/ReplMain.lean`). The `repl` backend
runs a leanprover-community/repl binary (plain framing).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from leancot.files import ensure_text, sha256_hex
from leancot.lean.protocol import FRAMINGS, Framing

REPL_FILES = (Path("LeanCot") / "Repl.lean",)  # the REPL module, relative to the project
RUNNER_LINE = "#eval LeanCot.Repl.main\n"  # what makes the module a program (see Repl.lean)
# the runner of each protocol: the WASM build does not pass the environment on to Lean
RUNNER_LINES = {"community": RUNNER_LINE, "leancot": "#eval LeanCot.Repl.mainLeancot\n"}
REPL_EXE = "leancot-repl"  # the lakefile's `lean_exe` (`lake exe leancot-repl`)
MOUNTS_ENV = "LEANCOT_WASM_MOUNTS"  # read by the patched lean.js (see wasm_patch.py)
SANDBOX_ENV = "LEANCOT_WASM_SANDBOX"  # likewise: the private writable directory of one process
STACK_ENV = "LEANCOT_WASM_STACK_MB"
DEFAULT_NODE_STACK_KB = 65500
DEFAULT_WASM_STACK_MB = 512  # with the Node flag, lets deep recursion pass (measured)
DEFAULT_WASM_THREADS = 1
# V8's young generation is sized per isolate (the main thread and every wasm pthread worker), and
# the REPL allocates little JavaScript: a 1 MB semi-space cut the RSS after the 5000-tactic run
# (benchmarks/lean_latency.py --only process --process-parts memory; README, "Memory levers").
DEFAULT_NODE_FLAGS = ("--max-semi-space-size=1",)
# glibc's malloc keeps arenas per thread (Node's main thread and each wasm pthread worker): one
# arena gave 0.95x the RSS after the 5000-tactic run, tactics no slower (README, "Memory levers,
# session 7"). None: not set (the inherited value or glibc's default).
MALLOC_ARENA_ENV = "MALLOC_ARENA_MAX"
DEFAULT_MALLOC_ARENA_MAX: int | None = 1
PROTOCOL_ENV = "LEANCOT_REPL_PROTOCOL"  # read by Repl.lean's `mainIO`
PROTOCOLS = ("leancot", "community")


@dataclass(frozen=True)
class Backend:
    """A command line that starts a REPL, the environment it needs, and how it frames replies."""

    name: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    cwd: Path | None = None
    framing: Framing = "marker"
    startup_timeout: float = 300.0
    # The library's .olean files carry only their public part (the embedded WASM Lean), so
    # `#print axioms` lists library theorems whose proofs were stripped as if they were axioms.
    stripped_library: bool = False
    # When set, each started process gets a fresh private temporary directory (its cwd, removed
    # when the process is killed), passed to it in this environment variable.
    private_dir_env: str | None = None
    # RLIMIT_AS of the process (set by the guard before it starts the command); None: no limit.
    memory_limit_bytes: int | None = None

    def __post_init__(self) -> None:
        if not self.argv:
            raise ValueError("a backend needs a command line (argv is empty)")
        if self.framing not in FRAMINGS:
            raise ValueError(f"unknown framing {self.framing!r}; expected one of {FRAMINGS}")
        object.__setattr__(self, "argv", tuple(str(a) for a in self.argv))
        env = self.env.items() if isinstance(self.env, Mapping) else self.env
        object.__setattr__(self, "env", tuple((str(k), str(v)) for k, v in env))
        if self.cwd is not None:
            object.__setattr__(self, "cwd", Path(self.cwd))

    def process_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of the child: `base` (default os.environ) updated with `env`."""
        merged = dict(os.environ if base is None else base)
        merged.update(self.env)
        return merged


class WasmInstallLike(Protocol):
    node: Path
    lean_js: Path
    lib_dir: Path


def _unique(paths: Iterable[Path | str | None]) -> list[str]:
    seen: list[str] = []
    for p in paths:
        if p is None:
            continue
        text = str(Path(p).resolve())
        if text != "/" and text not in seen:  # mounting "/" would hide the WASM /dev
            seen.append(text)
    return seen


def repl_file(project: Path) -> Path:
    """The REPL module of the project (relative): the first of REPL_FILES that exists."""
    for rel in REPL_FILES:
        if (project / rel).is_file():
            return rel
    raise ValueError(f"no Lean REPL in {project} (looked for {', '.join(map(str, REPL_FILES))})")


def runner_text(module_text: str, protocol: str = "community") -> str:
    """The REPL module's text with the `#eval` that runs it in `protocol` appended."""
    if protocol not in RUNNER_LINES:
        raise ValueError(f"unknown REPL protocol {protocol!r}; expected one of {PROTOCOLS}")
    return module_text.rstrip("\n") + "\n\n" + RUNNER_LINES[protocol]


def repl_runner(project: Path, runner_dir: Path | None = None, protocol: str = "community") -> Path:
    """The file `lean` runs as the REPL in `protocol`: `runner_text` of the project's REPL module,
    at `<runner_dir>/<sha256 of the text>/Repl.lean` (default `runner_dir`: `paths.runner_dir()`).

    Content-addressed, so checkouts with different REPL sources never share one; an existing file
    is used only if its text is exactly that (else it is rewritten, atomically). The directory is
    private to the user (mode 0700): the runner is code that Lean runs.
    """
    text = runner_text((project / repl_file(project)).read_text(encoding="utf-8"), protocol)
    if runner_dir is None:
        from leancot.lean.paths import runner_dir as default_runner_dir

        runner_dir = default_runner_dir()
    path = runner_dir / sha256_hex(text, 16) / "Repl.lean"
    runner_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    ensure_text(path, text)
    return path


def project_lean_path(project: Path) -> list[str]:
    """The project's build output directory for `.olean` files, if it has been built."""
    build = project / ".lake" / "build" / "lib"
    for d in (build / "lean", build):  # newer Lake, older Lake
        if d.is_dir():
            return [str(d)]
    return []


def _protocol(protocol: str) -> tuple[dict[str, str], Framing]:
    """The environment and reply framing of our REPL in `protocol` (the variable is for the native
    executable; the runners name their protocol themselves)."""
    if protocol == "leancot":
        return {PROTOCOL_ENV: "leancot"}, "marker"
    if protocol == "community":
        return {}, "plain"
    raise ValueError(f"unknown REPL protocol {protocol!r}; expected one of {PROTOCOLS}")


def _project(project_dir: Path | str | None) -> Path:
    if project_dir is None:
        from leancot.lean.paths import project_dir as default_project_dir

        return default_project_dir()
    return Path(project_dir).resolve()


def wasm_backend(
    install: WasmInstallLike | None = None,
    project_dir: Path | str | None = None,
    mounts: Sequence[Path | str] = (),
    *,
    sandbox: bool = True,
    node_stack_kb: int = DEFAULT_NODE_STACK_KB,
    wasm_stack_mb: int | None = DEFAULT_WASM_STACK_MB,
    threads: int = DEFAULT_WASM_THREADS,
    startup_timeout: float = 300.0,
    protocol: str = "leancot",
    lean_path: Sequence[Path | str] = (),
    node_flags: Sequence[str] = DEFAULT_NODE_FLAGS,
    malloc_arena_max: int | None = DEFAULT_MALLOC_ARENA_MAX,
    image: bool | Path = True,
) -> Backend:
    """Our REPL on the embedded WASM Lean, speaking `protocol` (see the module docstring).
    `image`: start from the REPL's image when one is built for this REPL and install
    (`leancot.lean.image`; `leancot setup` builds it), else elaborate the REPL; False: always
    elaborate it; a directory: start from the image in it.
    `install=None` looks it up (see `leancot setup`); `project_dir=None` is leancot's
    `lean_project/`. `threads` is Lean's `-j`: the REPL answers one request at a time, and every
    extra wasm thread keeps its own heap (measured: the REPL's start-up peak is 2.1 GB with Lean's
    default thread count, 1.35 GB with one). `lean_path`: more directories of .olean files
    (a user project's modules, built by `leancot.extract.build`), after the core library; they
    must lie under a mounted directory. `node_flags` go to Node before the glue;
    `malloc_arena_max` is Node's `MALLOC_ARENA_MAX` (None: the inherited value or glibc's default).

    The WASM file system sees only the host directories the patched glue mounts. With `sandbox`
    (the default; required for untrusted text) each process gets a fresh private temporary
    directory, its only writable host directory (its cwd, and `/tmp` inside Lean; removed when the
    process dies), and the project, the core library, the install directory and `mounts` are
    mounted read-only; host `/home`, `/tmp`, the working directory and the system temp dir are not
    mounted. `sandbox=False` is for trusted work only: the glue then mounts host `/home` and `/tmp`
    read-write, plus the working directory, the temp dir and all of the above, also read-write.
    """
    if install is None:
        from leancot.lean.install import find_installation

        install = find_installation()
    project = _project(project_dir)
    image_path = _image_path(install, project, image)
    if image_path is not None:
        from leancot.lean.image import image_runner

        repl = image_runner(project, image_path, protocol)
        mounts = [*mounts, image_path]
    else:
        repl = repl_runner(project, protocol=protocol)
    lib_dir = Path(install.lib_dir)
    cache_dir = getattr(install, "cache_dir", None) or getattr(install, "root", None)
    if sandbox:
        mounted = _unique([project, lib_dir, cache_dir, repl.parent, *mounts])
    else:
        cwd = [Path.cwd(), tempfile.gettempdir()]
        mounted = _unique([project, *cwd, lib_dir, cache_dir, repl.parent, *mounts])
    lean_path = [str(lib_dir), *map(str, lean_path), *project_lean_path(project)]
    if image_path is not None:
        lean_path.append(str(image_path))
    protocol_env, framing = _protocol(protocol)
    env = {"LEAN_PATH": ":".join(lean_path), MOUNTS_ENV: ":".join(mounted), **protocol_env}
    if wasm_stack_mb is not None:
        env[STACK_ENV] = str(wasm_stack_mb)
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    if malloc_arena_max is not None:
        if malloc_arena_max < 1:
            raise ValueError(f"malloc_arena_max must be at least 1, got {malloc_arena_max}")
        env[MALLOC_ARENA_ENV] = str(malloc_arena_max)
    node = [str(install.node), f"--stack-size={node_stack_kb}", *node_flags, str(install.lean_js)]
    argv = [*node, f"-j{threads}", str(repl)]
    return Backend(
        "wasm",
        tuple(argv),
        tuple(env.items()),
        # The WASM runtime leaves default.profraw in its cwd: the private dir, or the temp dir.
        None if sandbox else Path(tempfile.gettempdir()),
        framing,
        startup_timeout,
        stripped_library=True,
        private_dir_env=SANDBOX_ENV if sandbox else None,
    )


def _image_path(install: WasmInstallLike, project: Path, image: bool | Path) -> Path | None:
    """The image directory a WASM backend starts from (see `wasm_backend`), or None."""
    if image is False:
        return None
    if image is True:
        from leancot.lean.image import find_image

        return find_image(install, project)
    path = Path(image)
    if not path.is_dir():
        raise ValueError(f"REPL image directory {path} does not exist")
    return path


NATIVE_PRIVATE_DIR_ENV = "LEANCOT_PRIVATE_DIR"
DEFAULT_NATIVE_MEMORY_GB = 24.0  # RLIMIT_AS: Mathlib's .olean files are mapped into memory


def network_isolation() -> tuple[str, ...]:
    """A command prefix that runs a program without network (`unshare` into new user and network
    namespaces), or () where this system does not allow it."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    prefix = (unshare, "--user", "--map-root-user", "--net", "--")
    try:
        ok = subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return prefix if ok else ()


def native_backend(
    lean: Path | str | None = None,
    project_dir: Path | str | None = None,
    *,
    startup_timeout: float = 300.0,
    sandbox: bool = True,
    memory_limit_gb: float | None = DEFAULT_NATIVE_MEMORY_GB,
    protocol: str = "leancot",
    lean_path: Sequence[Path | str] = (),
) -> Backend:
    """Our REPL on a native Lean, speaking `protocol` (see the module docstring):
    `lake env lean RUNNER` in the project if lake exists, else
    `lean RUNNER` (the runner of `repl_runner`: nothing needs building first). After `lake build`
    in the project, `Backend("native", ("lake", "-d", str(PROJECT), "exe", REPL_EXE))` runs the
    compiled executable instead (same protocol), which starts without elaborating the REPL.

    With `sandbox` (the default) each process runs in a fresh private temporary directory (its
    cwd, removed when it ends) and, where the system allows user namespaces, without network;
    `memory_limit_gb` caps its address space (RLIMIT_AS). Native Lean can still read and write
    what the user can: run untrusted text in a container (see README, Verification).
    `lean_path`: more directories of .olean files (a user project's build, its `lake env`
    LEAN_PATH), searched before the project's own (Lake adds its paths in front of them).
    """
    project = _project(project_dir)
    repl = str(repl_runner(project, protocol=protocol))
    prefix = network_isolation() if sandbox else ()
    private = NATIVE_PRIVATE_DIR_ENV if sandbox else None
    limit = None if memory_limit_gb is None else int(memory_limit_gb * (1 << 30))
    protocol_env, framing = _protocol(protocol)
    extra = [str(p) for p in lean_path]
    lake = shutil.which("lake")
    if lean is None and lake is not None:
        argv = (*prefix, lake, "-d", str(project), "env", "lean", repl)
        # `lake env` puts the project's paths in front of the LEAN_PATH it is started with
        inherited = [p for p in os.environ.get("LEAN_PATH", "").split(":") if p]
        path_env = {"LEAN_PATH": ":".join([*extra, *inherited])} if extra else {}
        return Backend(
            "native",
            argv,
            tuple({**path_env, **protocol_env}.items()),
            project,
            framing,
            startup_timeout,
            private_dir_env=private,
            memory_limit_bytes=limit,
        )
    lean_bin = str(lean) if lean is not None else shutil.which("lean")
    if lean_bin is None:
        raise ValueError(
            "no native Lean found (neither `lake` nor `lean` is on PATH): install elan "
            "(https://github.com/leanprover/elan) or pass lean=/path/to/lean, "
            "or use the embedded WASM Lean (`leancot setup`)"
        )
    lean_path = [*extra, *project_lean_path(project)]
    if os.environ.get("LEAN_PATH"):
        lean_path.append(os.environ["LEAN_PATH"])
    env = (("LEAN_PATH", ":".join(lean_path)), *protocol_env.items())
    return Backend(
        "native",
        (*prefix, lean_bin, repl),
        env,
        project,
        framing,
        startup_timeout,
        private_dir_env=private,
        memory_limit_bytes=limit,
    )


def repl_backend(
    binary: Path | str | Sequence[str],
    cwd: Path | str | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> Backend:
    """The leanprover-community/repl binary (or a command such as `lake env .../repl`)."""
    argv = (str(binary),) if isinstance(binary, (str, Path)) else tuple(str(a) for a in binary)
    return Backend(
        "repl",
        argv,
        tuple((env or {}).items()),
        Path(cwd) if cwd is not None else None,
        "plain",
        startup_timeout=30.0,
    )
