"The agent glue: V+M+C in the real game and the dream, backends, fitness and the controller trainer."
import json
from dataclasses import asdict
import numpy as np, pytest, torch
from world_models.agent import Agent, AgentSpec, agent_parts, build_agent, run_episode
from world_models.backends import LocalBackend, SerialBackend
from world_models.fitness import DreamFitness, RealFitness, dream_scores, play_jobs
from world_models.envs import make_env
from world_models.controller import CONTROLLERS, Controller
from world_models.dream import DreamEnv, load_z0
from world_models.evolve import load_controller, train_controller
from world_models.presets import ESConfig, es_preset
from world_models.mdnrnn import load_mdnrnn
from world_models.plumbing import assets_dir

@pytest.fixture(scope='module')
def spec():
    p = agent_parts(assets_dir(), 'doom')
    return AgentSpec('doom', p['vae'], p['mdnrnn'], p['z0'])

def test_agent_plays_the_dream_env_and_the_real_game(spec):
    agent = build_agent(spec)
    dream = run_episode(agent, DreamEnv('doom', tau=1.0), seed=0, max_steps=300)
    assert 1 <= dream['steps'] <= 300 and dream['reward'] == dream['steps']
    from world_models.envs import make_env
    env = make_env('doom')
    try: real = run_episode(agent, env, seed=0, max_steps=300)
    finally: env.close()
    assert 1 <= real['steps'] <= 300 and real['reward'] > 0

def test_agent_state_follows_m_step_by_step(spec):
    "The agent's M state equals M run over the same (z, action) sequence by hand."
    agent = build_agent(spec, np.random.default_rng(0).normal(0, 0.1, 1088))
    zs = np.random.default_rng(1).normal(size=(5, 64)).astype(np.float32)
    acts = [agent.act(z) for z in zs]
    m, st = load_mdnrnn(spec.mdnrnn), None
    with torch.no_grad():
        for t, (z, a) in enumerate(zip(zs, acts)):
            signed = torch.tensor([[[0., 1., -1.][a]]])
            _, st = m.step(torch.from_numpy(z)[None], signed, torch.tensor([float(t == 0)]), st)
    torch.testing.assert_close(agent.state[0], st[0], atol=1e-5, rtol=0)

def test_slots_play_the_episodes_one_agent_would(spec):
    "Four Doom episodes played three at a time with batched V, M and C score exactly as one agent playing them in turn."
    X, seeds = np.random.default_rng(0).normal(0, 0.1, (4, 1088)), [11, 12, 13, 14]
    env = make_env('doom')
    try: alone = [run_episode(build_agent(spec, x), env, s, 200)['reward'] for x, s in zip(X, seeds)]
    finally: env.close()
    np.testing.assert_array_equal(play_jobs(spec, X, seeds, 200, slots=3), alone)
    np.testing.assert_array_equal(play_jobs(spec, X, seeds, 200, patience=5, slots=3), alone)  # +1 every step: never idle

def test_carracing_fast_renderer_and_patience():
    "The pixel-identical renderer scores CarRacing episodes exactly as the real one; patience cuts a car that has left the road."
    p = agent_parts(assets_dir(), 'carracing'); car = AgentSpec('carracing', p['vae'], p['mdnrnn'], p['z0'])
    X, seeds = np.zeros((2, 867)), [3, 4]  # C = 0: half throttle, straight ahead, off the road at the first bend
    full = play_jobs(car, X, seeds, 400)
    np.testing.assert_array_equal(play_jobs(car, X, seeds, 400, renderer='exact'), full)
    cut = play_jobs(car, X, seeds, 400, patience=30, renderer='exact')
    assert (cut > full).all() and (full < cut - 5).all()  # the cut episodes skip the -0.1 per step of idling on the grass

def test_carracing_agent_view_is_the_same_game():
    "The training renderer changes only the pixels: with C = 0 (the same actions whatever V sees) the totals are exact."
    p = agent_parts(assets_dir(), 'carracing'); car = AgentSpec('carracing', p['vae'], p['mdnrnn'], p['z0'])
    X, seeds = np.zeros((2, 867)), [3, 4]
    np.testing.assert_array_equal(play_jobs(car, X, seeds, 400, renderer='agent'), play_jobs(car, X, seeds, 400))
    x = np.random.default_rng(0).normal(0, 0.1, (3, 867))  # C that reads V's z: runs with the traced encoder
    assert np.isfinite(play_jobs(car, x, [5, 6, 7], 50, renderer='agent', slots=2)).all()

def test_local_pool_gives_the_serial_results(spec):
    X = np.zeros((2, 1088)); X[1, -512:] = 0.3
    serial = RealFitness(spec, SerialBackend(), max_steps=150).scores(X, 2, seed=5)
    pool = LocalBackend(2)
    try: local = RealFitness(spec, pool, max_steps=150).scores(X, 2, seed=5)
    finally: pool.close()
    np.testing.assert_array_equal(serial, local)
    assert serial.shape == (2, 2) and (serial >= 1).all()

def test_dream_fitness_is_seeded_and_split_consistently(spec):
    m, z0 = load_mdnrnn(spec.mdnrnn), load_z0(spec.z0)
    X = np.random.default_rng(0).normal(0, 0.05, (4, 1088))
    a = dream_scores(m, z0, X, 8, tau=1.0, seed=3, max_steps=200); b = dream_scores(m, z0, X, 8, tau=1.0, seed=3, max_steps=200)
    np.testing.assert_array_equal(a, b); assert a.shape == (4, 8) and ((1 <= a) & (a <= 200)).all()
    with pytest.raises(ValueError, match='death head'): dream_scores(load_mdnrnn(assets_dir() / 'mdnrnn_carracing.safetensors'), z0, X, 2)

def test_agent_rejects_a_controller_that_does_not_fit_m(spec):
    with pytest.raises(ValueError, match='does not fit M'):
        Agent(None, load_mdnrnn(spec.mdnrnn), Controller(**asdict(CONTROLLERS['carracing'])), 'doom')

def test_dream_training_improves_survival_and_resumes(spec, tmp_path):
    "A few generations in the dream beat the all-zero start; an interrupted run resumes to the same controller."
    fit = DreamFitness(spec, SerialBackend(), tau=1.0, max_steps=300)
    cfg = es_preset('doom', 'smoke', popsize=8, rollouts=4, generations=4, eval_every=4, eval_rollouts=64)
    res = train_controller(fit, 'doom', tmp_path / 'a', cfg, seed=0, progress=False)
    zero = fit.scores(np.zeros((1, 1088)), 64, seed=99).mean()
    assert res['best']['generation'] == 4 and res['best']['mean'] > zero, (res['best'], zero)
    class Killed(Exception): pass
    class Dies:  # the run is killed while scoring generation 3
        calls = 0
        def scores(self, X, rollouts, seed):
            self.calls += 1
            if self.calls == 3: raise Killed
            return fit.scores(X, rollouts, seed)
    with pytest.raises(Killed): train_controller(Dies(), 'doom', tmp_path / 'b', cfg, seed=0, progress=False)
    assert len((tmp_path / 'b' / 'generations.csv').read_text().splitlines()) == 1 + 2  # two generations were saved
    train_controller(fit, 'doom', tmp_path / 'b', cfg, seed=0, progress=False)
    np.testing.assert_array_equal(load_controller(tmp_path / 'a' / 'controller.safetensors').get_flat(),
                                  load_controller(tmp_path / 'b' / 'controller.safetensors').get_flat())
    (tmp_path / 'c').mkdir(); (tmp_path / 'c' / 'es.npz').write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match='es.npz: unreadable optimiser checkpoint'): train_controller(fit, 'doom', tmp_path / 'c', cfg, progress=False)

def test_shipped_doom_agent_fits_and_outlives_standing_still():
    "The shipped C (assets/controller_doom) fits the shipped V and M, and in their dream it outlives a C that always stays."
    p = agent_parts(assets_dir(), 'doom'); c = load_controller(p['controller'])
    assert c.cfg == CONTROLLERS['doom']
    m, z0 = load_mdnrnn(p['mdnrnn']), load_z0(p['z0'])
    s = dream_scores(m, z0, np.stack([c.get_flat(), np.zeros(1088)]), rollouts=64, seed=0, max_steps=1000).mean(1)
    assert s[0] > 2 * s[1], s  # measured: 877 against 168 of the 1,000-step cap
