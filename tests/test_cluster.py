"The Ray backend: same fitnesses as the local pool, lost workers replaced, Ray optional."
import os, subprocess, sys, threading, time
from pathlib import Path
import numpy as np, pytest
try: import tomllib  # Python >= 3.11
except ModuleNotFoundError: import tomli as tomllib  # Python 3.10: the dev extra installs tomli
from world_models.agent import AgentSpec, agent_parts
from world_models.fitness import DreamFitness, RealFitness
from world_models.backends import LocalBackend, RayBackend, batches, make_backend, require_ray
from world_models.cmaes import make_es
from world_models.plumbing import assets_dir

ROOT = Path(__file__).resolve().parents[1]

def test_ray_is_an_optional_extra():
    proj = tomllib.loads((ROOT / 'pyproject.toml').read_text())['project']
    assert not any(d.lower().startswith('ray') for d in proj['dependencies'])
    assert any(d.startswith('ray') for d in proj['optional-dependencies']['cluster'])
    code = 'import sys, world_models.cli, world_models.pipeline; assert "ray" not in sys.modules'
    subprocess.run([sys.executable, '-c', code], check=True)  # importing the package does not import Ray

def test_missing_ray_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, 'ray', None)  # as if Ray were not installed
    with pytest.raises(ImportError, match=r'pip install -e "\.\[cluster\]"'): require_ray()
    with pytest.raises(ImportError, match='cluster'): make_backend('ray', 2)

def test_batches_cover_every_task_once_in_order():
    for n, w in [(1024, 2), (7, 3), (1, 4), (64, 64)]:
        bs = batches(n, w)
        assert [i for b in bs for i in b] == list(range(n)) and len(bs) <= 4 * w

ray = pytest.importorskip('ray')

@pytest.fixture(scope='module')
def cluster():
    "A local Ray 'cluster' of 2 CPUs on loopback, shared by this module's tests."
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()

@pytest.fixture(scope='module')
def generation():
    "One CMA-ES generation of Doom controllers (the course's CMA-ES, seed 3) and the spec of the shipped V and M."
    p = agent_parts(assets_dir(), 'doom')
    spec = AgentSpec('doom', p['vae'], p['mdnrnn'], p['z0'])
    return spec, make_es('course', np.zeros(1088), 0.1, 6, seed=3).ask()

@pytest.fixture(scope='module')
def local_scores(generation):
    spec, X = generation
    be = LocalBackend(2)
    try: return RealFitness(spec, be, max_steps=120).scores(X, 2, seed=11), DreamFitness(spec, be, 1.15, max_steps=300).scores(X, 3, seed=11)
    finally: be.close()

def test_a_generation_scored_through_ray_equals_the_local_pool(cluster, generation, local_scores):
    spec, X = generation
    be = RayBackend(2)
    try:
        real, dream = RealFitness(spec, be, max_steps=120).scores(X, 2, seed=11), DreamFitness(spec, be, 1.15, max_steps=300).scores(X, 3, seed=11)
        pids = set(ray.get([a.pid.remote() for a in be.actors]))
    finally: be.close()
    np.testing.assert_array_equal(real, local_scores[0]); np.testing.assert_array_equal(dream, local_scores[1])
    assert real.shape == (6, 2) and real.min() > 0 and len(pids) == 2 and os.getpid() not in pids

def test_killing_a_worker_mid_generation_still_completes_it(cluster, generation, local_scores):
    spec, X = generation
    be = RayBackend(2)
    def kill_worker_0():
        while not be.running: time.sleep(0.01)  # the generation is in flight
        time.sleep(1.0); ray.kill(be.actors[0], no_restart=True)
    killer = threading.Thread(target=kill_worker_0); killer.start()
    try: real = RealFitness(spec, be, max_steps=120).scores(X, 2, seed=11)
    finally: killer.join(); be.close()
    assert be.restarts >= 1, 'the worker was not killed while the generation ran'
    np.testing.assert_array_equal(real, local_scores[0])

def test_a_batch_that_keeps_losing_its_worker_stops_the_run(cluster):
    be = RayBackend(2, retries=1)
    try:
        with pytest.raises(RuntimeError, match='lost its worker 2 times'): be.map(lambda x: os._exit(1), [(1,), (2,)])  # a lambda travels by value, not by module name
    finally: be.close()

def test_a_stuck_worker_does_not_hang_the_run(cluster):
    be = RayBackend(2, retries=0, timeout=2)
    t0 = time.monotonic()
    try:
        with pytest.raises(RuntimeError, match='timeout=2'): be.map(lambda x: time.sleep(60), [(1,)])
    finally: be.close()
    assert time.monotonic() - t0 < 30

def test_a_failing_task_reports_its_own_error(cluster):
    be = RayBackend(2)
    try:
        def bad(x): raise ValueError(f'bad task {x}')
        with pytest.raises(ValueError, match='bad task 3'): be.map(bad, [(3,)])
    finally: be.close()

def test_collect_on_ray_writes_the_same_shards(cluster, tmp_path):
    from world_models.pipeline import stage_collect
    from world_models.data import load_rollout
    a = stage_collect(tmp_path / 'local', 'doom', 'smoke', seed=4, workers=2, progress=False)
    b = stage_collect(tmp_path / 'ray', 'doom', 'smoke', seed=4, workers=2, progress=False, backend='ray')
    assert a['episodes'] == b['episodes'] == 4 and a['steps'] == b['steps']
    for f in sorted((tmp_path / 'local' / 'rollouts').glob('rollout_*.npz')):
        x, y = load_rollout(f), load_rollout(tmp_path / 'ray' / 'rollouts' / f.name)
        np.testing.assert_array_equal(x['action'], y['action']); np.testing.assert_array_equal(x['obs'], y['obs'])
    again = stage_collect(tmp_path / 'ray', 'doom', 'smoke', seed=4, workers=2, progress=False, backend='ray')
    assert again['new_episodes'] == 0

def test_cli_trains_a_controller_on_ray(cluster, tmp_path, capsys):
    from world_models.cli import main
    assert main(['train-controller', '--env', 'doom', '--preset', 'smoke', '--in-dream', '--shipped', '--backend', 'ray',
                 '--generations', '1', '--out', str(tmp_path), '--quiet']) == 0
    assert '"generations": 1' in capsys.readouterr().out and (tmp_path / 'controller' / 'controller.safetensors').exists()
