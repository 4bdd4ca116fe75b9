"Tests of world_models.dream: the batched dream, the Gymnasium dream environment, the shipped M."
import gymnasium as gym, numpy as np, pytest, torch
import world_models.dream  # registers the dream ids with gymnasium
from gymnasium.utils.env_checker import check_env
from world_models.dream import BatchedDream, DreamEnv, load_z0
from world_models.mdnrnn import MDNRNN, load_mdnrnn
from world_models.plumbing import assets_dir

def toy_dream(n=8, seed=0, death_bias=-1., **kw):
    torch.manual_seed(0); m = MDNRNN(4, 1, 8, predict_done=True)
    with torch.no_grad():  # a death logit spread widely around `death_bias`: with -1, dreamers die at varied times
        m.head.weight[-1] *= 10; m.head.bias[-1] = death_bias
    z0 = {'mu': np.zeros((3, 4), np.float32), 'logvar': np.zeros((3, 4), np.float32)}
    return BatchedDream(m, z0, n=n, seed=seed, **kw)

def test_batched_dream_is_seeded_and_masks_the_dead():
    a, b = toy_dream(), toy_dream()
    za, zb = a.reset(), b.reset(); assert torch.equal(za, zb)
    for _ in range(30):
        act = torch.zeros(8, 1)
        za, ra, da, _ = a.step(act); zb, rb, db, _ = b.step(act)
        assert torch.equal(za, zb) and torch.equal(da, db)
    d = toy_dream(n=64, max_steps=200); d.reset(); frozen = {}
    for t in range(200):
        alive_before = d.alive.clone()
        z, r, died, trunc = d.step(torch.zeros(64, 1))
        assert torch.equal(r, alive_before.float())  # +1 only while alive
        for i in torch.nonzero(~alive_before)[:, 0].tolist():
            assert torch.equal(z[i], frozen.setdefault(i, z[i].clone()))  # the dead stay frozen
    assert trunc and 0 < d.alive.sum() < 64

def test_dream_matches_single_dreams_of_its_batch():
    "Batched stepping equals stepping the same M one dream at a time with the same samples (no cross-talk)."
    d = toy_dream(n=4, death_bias=-100.); d.reset(); d.tau = 1e-10  # nobody dies; near-deterministic sampling
    z0, st0 = d.z.clone(), None
    for _ in range(5): d.step(torch.ones(4, 1))
    m = d.mdn; z = z0
    with torch.no_grad():
        for t in range(5):
            p, st0 = m.step(z, torch.ones(4, 1), torch.full((4,), float(t == 0)), st0)
            z = p['mu'].gather(-1, p['log_pi'].argmax(-1, keepdim=True))[..., 0]
    torch.testing.assert_close(d.z, z, atol=1e-3, rtol=0)

def test_registered_doom_dream_passes_check_env():
    env = gym.make('world_models/DoomDream-v0', render_mode='rgb_array')
    check_env(env.unwrapped)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (64,) and env.action_space == gym.spaces.Discrete(3)
    total, steps = 0., 0
    while True:
        obs, r, term, trunc, _ = env.step(env.action_space.sample()); total += r; steps += 1
        if term or trunc: break
    assert total == steps and (term or steps == 2100)
    frame = env.render(); assert frame.shape == (64, 64, 3) and frame.dtype == np.uint8

def test_dream_action_space_is_the_real_games():
    from world_models.envs import make_env
    real = make_env('doom'); dream = DreamEnv('doom')
    assert dream.action_space == real.action_space; real.close()
    car = gym.make('world_models/CarRacingDream-v0')
    assert car.action_space.shape == (3,) and car.observation_space.shape == (32,)

def test_shipped_m_predicts_deaths():
    "Standing still in TakeCover is deadly; the shipped M's dreams must agree (real random play survives ~210 steps)."
    m = load_mdnrnn(assets_dir() / 'mdnrnn_doom.safetensors'); z0 = load_z0(assets_dir() / 'z0_doom.npz')
    d = BatchedDream(m, z0, n=128, tau=1.0, seed=0, max_steps=500); d.reset()
    steps = torch.zeros(128)
    for _ in range(500): _, r, _, _ = d.step(torch.zeros(128, 1)); steps += r
    assert d.alive.float().mean() < 0.5 and 100 < steps.mean() < 450, (d.alive.float().mean(), steps.mean())
