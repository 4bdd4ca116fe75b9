"Tests of world_models.vae and world_models.checkpoint: architecture, loss, training, resume, encoding, weights."
import csv, math
from pathlib import Path
import numpy as np, pytest, torch
from world_models.checkpoint import load_checkpoint, read_weights, save_weights
from world_models.data import load_rollout
from world_models.vae import (ConvVAE, encode_frames, encode_rollouts, kl_divergence, load_vae, param_table, reparameterize,
    to_input, train_vae, vae_loss, vae_preset, vae_fingerprint, assets_dir)

@pytest.mark.parametrize('z, paper', [(32, 4_348_547), (64, 4_446_915)])
def test_parameter_counts_match_the_paper(z, paper):
    m = ConvVAE(z)
    assert sum(p.numel() for p in m.parameters()) == paper == sum(r[2] for r in param_table(m))

def test_shapes_through_the_network():
    m = ConvVAE(32); x = torch.rand(3, 3, 64, 64)
    h = x
    sizes = []
    for layer in m.encoder:
        h = layer(h); sizes.append(tuple(h.shape[1:]))
    assert sizes[-1] == (256, 2, 2)
    h = m.fc_dec(torch.zeros(3, 32))[:, :, None, None]
    out = []
    for layer in m.decoder:
        h = layer(h)
        if isinstance(layer, torch.nn.ConvTranspose2d): out.append(tuple(h.shape[2:]))
    assert out == [(5, 5), (13, 13), (30, 30), (64, 64)]
    y = m.decode(m.encode(x)[0]); assert y.min() >= 0 and y.max() <= 1

def test_kl_matches_torch_distributions():
    torch.manual_seed(0); mu, logvar = torch.randn(64, 32) * 2, torch.randn(64, 32)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    torch.testing.assert_close(kl_divergence(mu, logvar), torch.distributions.kl_divergence(q, p).sum(1), rtol=1e-5, atol=1e-4)

def test_loss_terms_and_free_bits():
    torch.manual_seed(0); x, y = torch.rand(4, 3, 64, 64), torch.rand(4, 3, 64, 64)
    mu, logvar = torch.randn(4, 32) * 3, torch.randn(4, 32)
    total, r, kl = vae_loss(x, y, mu, logvar, kl_tolerance=0.5)
    torch.testing.assert_close(r, ((x - y) ** 2).sum() / 4)
    torch.testing.assert_close(kl, kl_divergence(mu, logvar).clamp(min=16).mean())
    torch.testing.assert_close(total, r + kl)
    small_mu = torch.zeros(4, 32, requires_grad=True)  # KL 0 < floor 16: no gradient from the KL term
    vae_loss(x, x, small_mu, torch.zeros(4, 32), 0.5)[2].backward()
    assert small_mu.grad.abs().sum() == 0

def test_reparameterization_gradients_and_distribution():
    torch.manual_seed(0)
    mu = torch.full((20000, 1), 1.5, requires_grad=True); logvar = torch.full((20000, 1), math.log(0.25), requires_grad=True)
    z = reparameterize(mu, logvar)
    assert abs(z.mean().item() - 1.5) < 0.02 and abs(z.std().item() - 0.5) < 0.02
    (z ** 2).mean().backward()
    assert mu.grad.abs().sum() > 0 and logvar.grad.abs().sum() > 0

def test_to_input_rejects_bad_frames():
    with pytest.raises(ValueError, match=r'\(B, 64, 64, 3\)'): to_input(torch.zeros(1, 3, 64, 64, dtype=torch.uint8))
    with pytest.raises(ValueError, match='uint8'): to_input(torch.zeros(1, 64, 64, 3))

def test_training_lowers_the_loss_and_resumes_exactly(doom_smoke, tmp_path):
    src, _ = doom_smoke; shards = sorted(src.glob('rollout_*.npz'))
    cfg = vae_preset('doom', 'smoke', max_steps=8, ckpt_every=4, batch_size=32)
    full = train_vae(shards, tmp_path / 'full', cfg, progress=False)
    train_vae(shards, tmp_path / 'part', vae_preset('doom', 'smoke', max_steps=5, ckpt_every=4, batch_size=32), progress=False)
    # a crash after step 5: the checkpoint holds step 5 (saved at the end); cut it back to step 4's metrics too
    resumed = train_vae(shards, tmp_path / 'part', cfg, progress=False)
    for (k, a), b in zip(full.state_dict().items(), resumed.state_dict().values()): assert torch.equal(a, b), k
    rows = list(csv.DictReader((tmp_path / 'part' / 'vae_metrics.csv').open()))
    assert [int(r['step']) for r in rows] == list(range(1, 9))
    long = train_vae(shards, tmp_path / 'long', vae_preset('doom', 'smoke', max_steps=40, batch_size=32), progress=False)
    r = [float(x['r_loss']) for x in csv.DictReader((tmp_path / 'long' / 'vae_metrics.csv').open())]
    assert np.mean(r[-5:]) < 0.7 * np.mean(r[:3])  # 40 small steps already cut the error by a third

def test_mismatched_checkpoint_is_refused(doom_smoke, tmp_path):
    src, _ = doom_smoke; shards = sorted(src.glob('rollout_*.npz'))[:1]
    train_vae(shards, tmp_path, vae_preset('doom', 'smoke', max_steps=1), progress=False)
    with pytest.raises(ValueError, match=r"vae.pt: checkpoint is for ConvVAE\(\{'z_dim': 64\}\)"):
        train_vae(shards, tmp_path, vae_preset('carracing', 'smoke', max_steps=2), progress=False)
    with pytest.raises(ValueError, match='vae.pt: was trained with lr=0.0001'):
        train_vae(shards, tmp_path, vae_preset('doom', 'smoke', max_steps=2, lr=1e-3), progress=False)
    (tmp_path / 'vae.pt').write_bytes(b'garbage')
    with pytest.raises(ValueError, match='vae.pt: unreadable checkpoint'):
        train_vae(shards, tmp_path, vae_preset('doom', 'smoke', max_steps=2), progress=False)
    with pytest.raises(ValueError, match="vae.safetensors: checkpoint is for ConvVAE"):
        from world_models.checkpoint import load_weights
        load_weights(tmp_path / 'vae.safetensors', ConvVAE(32), {'z_dim': 32})

def test_checkpoint_loading_is_pickle_free(tmp_path):
    class Evil:
        def __reduce__(self): return (print, ('pwned',))
    torch.save({'x': Evil()}, tmp_path / 'evil.pt')
    with pytest.raises(ValueError, match='evil.pt: unreadable checkpoint'): load_checkpoint(tmp_path / 'evil.pt')

def test_encode_rollouts(doom_smoke, tmp_path):
    src, man = doom_smoke; shards = sorted(src.glob('rollout_*.npz'))[:2]
    torch.manual_seed(0); vae = ConvVAE(64)
    paths = encode_rollouts(vae, shards, tmp_path, progress=False)
    for s, p in zip(shards, paths):
        d, e = load_rollout(s), load_rollout(p, ['mu', 'logvar', 'action', 'reward', 'done', 'meta'])
        mu, logvar = encode_frames(vae, d['obs'][:7])
        np.testing.assert_allclose(e['mu'][:7], mu, rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(e['action'], d['action']); np.testing.assert_array_equal(e['done'], d['done'])
        assert e['mu'].shape == (len(d['obs']), 64) and e['meta']['vae'] == vae_fingerprint(vae)
    mt = paths[0].stat().st_mtime_ns
    encode_rollouts(vae, shards, tmp_path, progress=False); assert paths[0].stat().st_mtime_ns == mt
    torch.manual_seed(1); other = ConvVAE(64)
    encode_rollouts(other, shards, tmp_path, progress=False)  # another V: re-encoded
    assert load_rollout(paths[0], ['meta'])['meta']['vae'] == vae_fingerprint(other)

def test_float16_weights_roundtrip(tmp_path):
    torch.manual_seed(0); m = ConvVAE(32)
    save_weights(tmp_path / 'v.safetensors', m, m.config, steps=3)
    assert (tmp_path / 'v.safetensors').stat().st_size < 4_348_547 * 2 + 100_000
    v = load_vae(tmp_path / 'v.safetensors')
    x = torch.rand(2, 3, 64, 64)
    torch.testing.assert_close(v.decode(v.encode(x)[0]), m.decode(m.encode(x)[0]), atol=2e-3, rtol=0)

@pytest.mark.parametrize('env, z', [('carracing', 32), ('doom', 64)])
def test_shipped_weights_reconstruct_real_frames(env, z):
    from world_models.data import play_episode
    from world_models.envs import close_envs
    from world_models.presets import collect_preset
    vae = load_vae(assets_dir() / f'vae_{env}.safetensors'); assert vae.z_dim == z
    ep = play_episode(collect_preset(env, 'smoke', max_steps=200 if env == 'carracing' else 300), seed=123); close_envs()
    frames = ep['obs'][60:] if env == 'carracing' else ep['obs']
    mu, _ = encode_frames(vae, frames)
    rec = (vae.decode(torch.from_numpy(mu)).detach().permute(0, 2, 3, 1).numpy() * 255)
    err, base = np.abs(rec - frames), np.abs(frames.mean(0, keepdims=True) - frames)  # V vs predicting the mean frame
    moving = base.max(-1) > 30  # pixels where this frame differs from the episode's mean: what V must encode
    assert err.mean() < 0.85 * base.mean(), (err.mean(), base.mean())
    assert err.max(-1)[moving].mean() < 0.7 * base.max(-1)[moving].mean(), (err.max(-1)[moving].mean(), base.max(-1)[moving].mean())
