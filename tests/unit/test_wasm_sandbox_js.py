"""The glue's mount/sandbox code (wasm_patch.MOUNTS), run by Node against a stub FS (no Lean).

The integration test (tests/integration/test_lean_sandbox.py) checks the same through real Lean;
here every guarded NODEFS operation is reached directly, including `symlink`, which Lean's core
library offers no way to call.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from leancot.lean import wasm_patch

STUB = r"""
class ErrnoError extends Error {
  constructor(errno) { super("errno " + errno); this.errno = errno }
}
const mounts = [], calls = [];
const FS = {
  ErrnoError,
  mkdirTree(p) {},
  mount(type, opts, path) {
    if (mounts.some(m => m[1] === path)) throw new ErrnoError(10);
    mounts.push([opts.root, path]);
  },
};
const op = name => (...a) => { calls.push(name); return 0 };
const NODEFS = {
  realPath(node) { return node.path },
  node_ops: {},
  stream_ops: {},
};
for (const k of ["mknod", "rename", "unlink", "rmdir", "setattr", "symlink", "lookup", "readdir"])
  NODEFS.node_ops[k] = op(k);
for (const k of ["open", "write", "read", "setattr", "close"]) NODEFS.stream_ops[k] = op("s." + k);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
for (const [k, v] of Object.entries(input.env)) process.env[k] = v;
(() => {
GLUE
globalThis.cwd = cwd;
})();
const N = NODEFS.node_ops, S = NODEFS.stream_ops, n = path => ({path});
const errno = f => {
  try { f(); return 0 } catch (e) { if (e instanceof ErrnoError) return e.errno; throw e }
};
const results = {};
for (const [name, call] of input.cases) {
  const [kind, ...args] = call;
  let f;
  if (kind === "mknod") f = () => N.mknod(n(args[0]), "x", 33188, 0);
  else if (kind === "rename") f = () => N.rename(n(args[0]), n(args[1]), "y");
  else if (kind === "unlink") f = () => N.unlink(n(args[0]), "x");
  else if (kind === "rmdir") f = () => N.rmdir(n(args[0]), "x");
  else if (kind === "setattr") f = () => N.setattr(n(args[0]), args[1]);
  else if (kind === "symlink") f = () => N.symlink(n(args[0]), "link", "/etc/passwd");
  else if (kind === "readdir") f = () => N.readdir(n(args[0]));
  else if (kind === "open") f = () => S.open({node: n(args[0]), flags: args[1]});
  else if (kind === "write") f = () => S.write({node: n(args[0])}, null, 0, 1, 0);
  else if (kind === "s.setattr") f = () => S.setattr({node: n(args[0])}, args[1]);
  const before = calls.length;
  results[name] = [errno(f), calls.length > before];
}
console.log(JSON.stringify({mounts, cwd: globalThis.cwd, results}));
"""

SB = "/tmp/leancot-lean-abc"
RO = "/ro/proj"


@pytest.fixture(scope="module")
def node():
    from leancot.lean.wasm_download import InstallError, node_binary

    try:
        return node_binary()
    except InstallError as exc:
        pytest.skip(str(exc))


def run_glue(node, env: dict[str, str], cases: list) -> dict:
    script = STUB.replace("GLUE", wasm_patch.MOUNTS.new)
    data = json.dumps({"env": env, "cases": cases})
    out = subprocess.run(
        [str(node), "-e", script],
        input=data,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


CASES = [
    ("mknod in ro", ["mknod", RO + "/dir"]),
    ("mknod ro root", ["mknod", RO]),
    ("mknod in sandbox", ["mknod", SB + "/a"]),
    ("mknod in sandbox root", ["mknod", SB]),
    ("mknod in a sibling with the same prefix", ["mknod", SB + "def/a"]),
    ("rename sandbox to ro", ["rename", SB + "/x", RO]),
    ("rename ro to sandbox", ["rename", RO + "/x", SB]),
    ("rename within sandbox", ["rename", SB + "/x", SB + "/d"]),
    ("unlink in ro", ["unlink", RO]),
    ("unlink in sandbox", ["unlink", SB]),
    ("rmdir in ro", ["rmdir", RO + "/d"]),
    ("truncate ro", ["setattr", RO + "/f", {"size": 0}]),
    ("chmod ro", ["setattr", RO + "/f", {"mode": 0o777}]),
    ("utime ro", ["setattr", RO + "/f", {"atime": 1, "mtime": 1}]),
    ("chown ro (a no-op in NODEFS)", ["setattr", RO + "/f", {"timestamp": 1}]),
    ("truncate sandbox", ["setattr", SB + "/f", {"size": 0}]),
    ("symlink in sandbox", ["symlink", SB]),
    ("symlink in ro", ["symlink", RO]),
    ("readdir ro", ["readdir", RO]),
    ("open ro for reading", ["open", RO + "/f", 0]),
    ("open ro O_WRONLY", ["open", RO + "/f", 1]),
    ("open ro O_RDWR", ["open", RO + "/f", 2]),
    ("open ro O_CREAT", ["open", RO + "/f", 64]),
    ("open ro O_TRUNC", ["open", RO + "/f", 512]),
    ("open ro O_APPEND", ["open", RO + "/f", 1024]),
    ("open sandbox O_WRONLY|O_CREAT|O_TRUNC", ["open", SB + "/f", 577]),
    ("write ro", ["write", RO + "/f"]),
    ("write sandbox", ["write", SB + "/f"]),
    ("ftruncate ro", ["s.setattr", RO + "/f", {"size": 0}]),
    ("fchmod sandbox", ["s.setattr", SB + "/f", {"mode": 0o600}]),
]
EXPECTED = {  # (errno, whether the real operation ran); EROFS is 69, EPERM 63 in this glue
    "mknod in ro": (69, False),
    "mknod ro root": (69, False),
    "mknod in sandbox": (0, True),
    "mknod in sandbox root": (0, True),
    "mknod in a sibling with the same prefix": (69, False),
    "rename sandbox to ro": (69, False),
    "rename ro to sandbox": (69, False),
    "rename within sandbox": (0, True),
    "unlink in ro": (69, False),
    "unlink in sandbox": (0, True),
    "rmdir in ro": (69, False),
    "truncate ro": (69, False),
    "chmod ro": (69, False),
    "utime ro": (69, False),
    "chown ro (a no-op in NODEFS)": (0, True),
    "truncate sandbox": (0, True),
    "symlink in sandbox": (63, False),
    "symlink in ro": (63, False),
    "readdir ro": (0, True),
    "open ro for reading": (0, True),
    "open ro O_WRONLY": (69, False),
    "open ro O_RDWR": (69, False),
    "open ro O_CREAT": (69, False),
    "open ro O_TRUNC": (69, False),
    "open ro O_APPEND": (69, False),
    "open sandbox O_WRONLY|O_CREAT|O_TRUNC": (0, True),
    "write ro": (69, False),
    "write sandbox": (0, True),
    "ftruncate ro": (69, False),
    "fchmod sandbox": (0, True),
}


def test_sandbox_mounts_and_cwd(node):
    mounts = ":".join(
        [RO + "/", "/tmp/pytest/x", "/tmp", SB + "/inner", RO + "/sub", "relative", "/"]
    )
    env = {wasm_patch.SANDBOX_ENV: SB + "/", wasm_patch.MOUNTS_ENV: mounts}
    out = run_glue(node, env, [])
    assert out["mounts"] == [
        [SB, "/tmp"],  # the private dir is /tmp ...
        [RO, RO],  # read-only mounts at their own paths, parents first
        ["/tmp/pytest/x", "/tmp/pytest/x"],  # under /tmp: mounted inside the private dir
        [SB, SB],  # ... and at its own path, the cwd
    ]  # host /tmp, dirs inside the sandbox, nested and relative ones and "/" are skipped
    assert out["cwd"] == SB


def test_sandbox_guards_every_write_outside_the_private_dir(node):
    env = {wasm_patch.SANDBOX_ENV: SB, wasm_patch.MOUNTS_ENV: RO}
    results = run_glue(node, env, CASES)["results"]
    assert {k: tuple(v) for k, v in results.items()} == EXPECTED


def test_without_sandbox_the_shipped_mounts_stay_and_nothing_is_guarded(node):
    env = {wasm_patch.MOUNTS_ENV: f"{RO}:/tmp/x:/home/u"}
    out = run_glue(node, env, [("symlink", ["symlink", RO]), ("write", ["write", RO + "/f"])])
    assert out["mounts"] == [["/home", "/home"], ["/tmp", "/tmp"], [RO, RO]]
    assert out["cwd"] == os.getcwd()
    assert out["results"] == {"symlink": [0, True], "write": [0, True]}


def test_the_code_fits_the_asm_consts_block():
    # debug_prints_to_stderr ends the ASM_CONSTS block at the first "};"
    assert "};" not in wasm_patch.MOUNTS.new
