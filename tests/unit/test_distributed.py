"""prove_all_ray: the scheduling logic and the `prove --ray` wiring, with a fake `ray` module.

Real Ray, with a Lean in each actor: tests/integration/test_ray_prove.py.
"""

from __future__ import annotations

import sys
import types

import pytest

from leancot.prover import ScriptedEnv, ScriptedPolicy
from leancot.prover.distributed import RemoteSearchError, import_ray, prove_all_ray
from leancot.prover.runner import prove_all
from leancot.prover.search_log import read_log

THEOREMS = [
    {"full_name": "T.one", "statement": "theorem one : R", "split": "test"},
    {"full_name": "T.two", "statement": "theorem two : P", "split": "test"},
    {"full_name": "T.three", "statement": "theorem three : Q", "split": "val"},
    {"full_name": "T.four", "statement": "theorem four : S", "split": "test"},
]
STARTS = {"theorem one : R": "⊢ R", "theorem two : P": "⊢ P", "theorem three : Q": "⊢ Q"}
STARTS["theorem four : S"] = "⊢ S"
TABLE = {"⊢ R": {"b": "⊢ B"}, "⊢ B": {"z": "no goals"}, "⊢ P": {"p": "no goals"}}
POLICY = {"⊢ R": ["a", "b"], "⊢ B": ["z"], "⊢ P": ["p"], "⊢ Q": ["q"], "⊢ S": ["boom"]}
STABLE_KEYS = ("full_name", "statement", "split", "method", "proved", "verified", "proof")


def make_env():
    return ScriptedEnv(TABLE, STARTS)


def verify(statement, proof):
    return "two" not in statement


class FakeRef:
    def __init__(self, value=None, error=None):
        self.value, self.error = value, error


class ActorDied(RuntimeError):
    pass


class FakeHandle:
    def __init__(self, ray, cls, args):
        self.ray = ray
        self.error = None
        try:
            self.instance = cls(*args)
        except Exception as e:  # Ray reports a failed constructor on the first call
            self.instance, self.error = None, e
        self.calls = 0

    def __getattr__(self, name):
        def remote(*args):
            self.ray.log.append((self, name, args))
            if self.error is not None or self in self.ray.killed:
                return FakeRef(error=ActorDied(f"actor died: {self.error}"))
            if name == "prove":
                self.calls += 1
                if self.calls > self.ray.max_calls or args[0]["full_name"] in self.ray.poison:
                    self.error = "crashed"
                    return FakeRef(error=ActorDied("actor died mid-search"))
            return FakeRef(getattr(self.instance, name)(*args))

        return types.SimpleNamespace(remote=remote)


class FakeActorClass:
    def __init__(self, ray, cls, options=None):
        self.ray, self.cls, self.opts = ray, cls, options or {}

    def options(self, **opts):
        self.ray.options = opts
        return FakeActorClass(self.ray, self.cls, opts)

    def remote(self, *args):
        handle = FakeHandle(self.ray, self.cls, args)
        self.ray.actors.append(handle)
        return handle


class FakeRay(types.ModuleType):
    """Runs every remote call at once; `wait` returns the newest ref first (out of order)."""

    def __init__(self, initialized=False):
        super().__init__("ray")
        self.initialized = initialized
        self.init_calls, self.actors, self.killed, self.log = [], [], [], []
        self.options = None
        self.shutdowns = 0
        self.max_calls = 10**9  # an actor dies on its next theorem after this many
        self.poison: set[str] = set()  # theorems that kill the actor proving them

    def is_initialized(self):
        return self.initialized

    def init(self, address=None, **kwargs):
        self.initialized = True
        self.init_calls.append((address, kwargs))

    def shutdown(self):
        self.initialized = False
        self.shutdowns += 1

    def remote(self, cls):
        return FakeActorClass(self, cls)

    def wait(self, refs, num_returns=1, timeout=None):
        return refs[-num_returns:], refs[:-num_returns]

    def get(self, ref, timeout=None):
        if ref.error is not None:
            raise ref.error
        return ref.value

    def kill(self, actor):
        self.killed.append(actor)


@pytest.fixture
def fake_ray(monkeypatch):
    ray = FakeRay()
    monkeypatch.setitem(sys.modules, "ray", ray)
    return ray


def run_ray(tmp_path, **kwargs):
    kwargs.setdefault("verify", verify)
    return prove_all_ray(
        kwargs.pop("theorems", THEOREMS),
        kwargs.pop("make_env", make_env),
        num_workers=kwargs.pop("num_workers", 2),
        method="best_first",
        policy=ScriptedPolicy(POLICY),
        out_path=tmp_path / "log.jsonl",
        progress=False,
        **kwargs,
    )


def test_same_log_as_prove_all_then_a_rerun_skips(tmp_path, fake_ray):
    summary = run_ray(tmp_path, address="ray://head:10001", init_kwargs={"namespace": "lc"})
    assert fake_ray.init_calls == [("ray://head:10001", {"namespace": "lc"})]
    assert fake_ray.shutdowns == 1 and len(fake_ray.actors) == 2
    assert fake_ray.options == {"num_cpus": 1}
    assert set(fake_ray.killed) == set(fake_ray.actors)  # closed and stopped at the end
    closes = [a for a, name, _ in fake_ray.log if name == "close"]
    assert set(closes) == set(fake_ray.actors)
    assert (summary.total, summary.skipped, summary.attempted) == (4, 0, 4)
    assert (summary.proved, summary.unverified, summary.errors) == (1, 1, 0)

    local = tmp_path / "local"
    local.mkdir()
    prove_all(
        THEOREMS,
        make_env,
        method="best_first",
        policy=ScriptedPolicy(POLICY),
        verify=verify,
        out_path=local / "log.jsonl",
        progress=False,
    )
    ray_log = {r["full_name"]: r for r in read_log(tmp_path / "log.jsonl")}
    local_log = {r["full_name"]: r for r in read_log(local / "log.jsonl")}
    assert ray_log.keys() == local_log.keys()
    for name, rec in ray_log.items():
        assert {k: rec[k] for k in STABLE_KEYS} == {k: local_log[name][k] for k in STABLE_KEYS}
        assert rec["lean_calls"] == local_log[name]["lean_calls"]

    again = run_ray(tmp_path)
    assert (again.skipped, again.attempted) == (4, 0)
    assert len(fake_ray.actors) == 2  # nothing to do: no actors started


def test_a_running_ray_is_joined_not_started_or_stopped(tmp_path, monkeypatch):
    ray = FakeRay(initialized=True)
    monkeypatch.setitem(sys.modules, "ray", ray)
    run_ray(tmp_path, num_workers=8, actor_options={"num_cpus": 2, "memory": 3 << 30})
    assert ray.init_calls == [] and ray.shutdowns == 0
    assert len(ray.actors) == 4  # never more actors than theorems
    assert ray.options == {"num_cpus": 2, "memory": 3 << 30}


def test_make_verify_runs_in_each_actor_with_its_env(tmp_path, fake_ray):
    seen = []

    def make_verify(env):
        seen.append(env)
        return lambda statement, proof: isinstance(env, ScriptedEnv)

    summary = run_ray(tmp_path, verify=None, make_verify=make_verify)
    assert len(seen) == 2 and summary.proved == 2
    assert len({id(a.instance.env) for a in fake_ray.actors}) == 2


def test_a_search_that_raises_is_an_error_not_a_line(tmp_path, fake_ray):
    class BoomPolicy(ScriptedPolicy):
        def propose(self, states, n):
            if "⊢ S" in states:
                raise KeyError("model server down")
            return super().propose(states, n)

    summary = prove_all_ray(
        THEOREMS,
        make_env,
        num_workers=2,
        method="best_first",
        policy=BoomPolicy(POLICY),
        verify=verify,
        out_path=tmp_path / "log.jsonl",
        progress=False,
    )
    assert summary.errors == 1 and summary.attempted == 4
    assert "T.four" not in {r["full_name"] for r in read_log(tmp_path / "log.jsonl")}


def test_a_dead_actor_is_retired_and_its_theorem_retried(tmp_path, fake_ray, caplog):
    calls = {"n": 0}

    def flaky_env():
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("no Lean on this node")
        return make_env()

    summary = run_ray(tmp_path, make_env=flaky_env)
    assert summary.attempted == 4 and summary.errors == 0
    assert len(read_log(tmp_path / "log.jsonl")) == 4
    assert fake_ray.actors[0] in fake_ray.killed
    assert "actor failed" in caplog.text


def test_a_theorem_that_kills_two_actors_is_an_error(tmp_path, fake_ray):
    fake_ray.poison = {"T.four"}
    summary = run_ray(tmp_path, num_workers=3)
    assert (summary.attempted, summary.errors) == (4, 1)
    assert [r["full_name"] for r in read_log(tmp_path / "log.jsonl")].count("T.four") == 0
    assert len(read_log(tmp_path / "log.jsonl")) == 3
    assert sum(a.error == "crashed" for a in fake_ray.actors) == 2


def test_no_actor_left_raises_and_keeps_the_finished_lines(tmp_path, fake_ray):
    fake_ray.max_calls = 1
    more = [{"full_name": f"T.x{i}", "statement": "theorem two : P"} for i in range(4)]
    with pytest.raises(RuntimeError, match="no Ray prover actor is left.*rerun to resume"):
        run_ray(tmp_path, theorems=THEOREMS + more)
    assert len(read_log(tmp_path / "log.jsonl")) == 2  # one theorem per actor finished
    assert fake_ray.shutdowns == 1 and set(fake_ray.killed) == set(fake_ray.actors)
    fake_ray.max_calls = 10**9
    rerun = run_ray(tmp_path, theorems=THEOREMS + more)
    assert (rerun.skipped, rerun.attempted) == (2, 6)


def test_arguments_are_checked_before_ray_is_needed(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ValueError, match="exactly one of verify"):
        run_ray(tmp_path, make_verify=lambda env: verify)
    with pytest.raises(ValueError, match="exactly one of verify"):
        run_ray(tmp_path, verify=None)
    with pytest.raises(ValueError, match="num_workers"):
        run_ray(tmp_path, num_workers=0)
    with pytest.raises(ValueError, match="value function"):
        prove_all_ray(
            THEOREMS, make_env, num_workers=1, method="mcts_prm", policy=ScriptedPolicy(POLICY),
            verify=verify, out_path=tmp_path / "log.jsonl",
        )  # fmt: skip
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'leancot\[distributed\]'"):
        run_ray(tmp_path)
    with pytest.raises(ModuleNotFoundError, match="leancot"):
        import_ray()


def test_remote_search_error_is_a_runtime_error():
    assert issubclass(RemoteSearchError, RuntimeError)


def test_prove_ray_ships_lean_factories_and_starts_no_driver_lean(tmp_path, monkeypatch, fake_ray):
    """`leancot prove --ray`: actors get picklable factories that start their own Lean and
    verify on it; the driver starts no Lean for a theorem list that needs none."""
    import pickle

    from leancot.pipeline import prove
    from leancot.pipeline.config import ProveConfig
    from leancot.prover import workers

    made = []

    def scripted_server_env(self):
        made.append(self)
        return make_env()

    monkeypatch.setattr(workers.OwnLeanServer, "__call__", scripted_server_env)
    monkeypatch.setattr(workers.VerifyOnActorServer, "__call__", lambda self, env: verify)
    monkeypatch.setattr(prove, "start_servers", lambda *a: pytest.fail("a driver Lean started"))
    monkeypatch.setattr(prove, "load_theorems", lambda config, server: (THEOREMS, {}))
    config = ProveConfig(
        out=tmp_path / "log.jsonl", method="baseline", workers=3, ray="ray://head:10001",
        progress=False,
    )  # fmt: skip
    notes = []
    result = prove.main(config, notify=notes.append)
    assert fake_ray.init_calls == [("ray://head:10001", {})] and len(fake_ray.actors) == 3
    assert result.attempted == 4 and result.counts["total"] == len(read_log(config.out))
    factory = made[0]  # each actor called the factory it was given
    assert len(made) == 3 and all(m == factory for m in made)
    assert factory.make_backend is prove.BACKENDS["wasm"] and factory.request_timeout == 600.0
    assert pickle.loads(pickle.dumps(factory)) == factory  # what Ray ships must pickle
    assert all(a.instance.verify is verify for a in fake_ray.actors)
    assert "prove: 3 Ray actor(s), one Lean each, at ray://head:10001" in notes


def test_ray_option_is_checked():
    from leancot.pipeline.config import ProveConfig

    with pytest.raises(ValueError, match="--ray needs an address"):
        ProveConfig(ray=" ")
    with pytest.raises(ValueError, match="--endpoint, not --vllm"):
        ProveConfig(ray="auto", vllm="m")


def test_actor_verify_runs_on_the_actors_server_with_the_core_ban():
    from leancot.prover.workers import FileContextEnv, VerifyOnActorServer

    server = object()
    banned = {"full_name": "c", "statement": "theorem leancot_core_x : P", "source": "core:x"}
    check = VerifyOnActorServer(5.0, theorems=(banned,))(FileContextEnv(server))
    verdict = check("theorem leancot_core_x : P", "by exact x")
    assert not verdict.ok and "x" in " ".join(verdict.reasons)  # refused before any Lean call
