"Tests of world_models.mdnrnn: parameter counts, the mixture NLL, temperature, the one-step cell, training."
import csv, math
import numpy as np, pytest, torch
import torch.nn.functional as F
from world_models.mdnrnn import MDNRNN, done_loss, mdn_nll, sample_mdn, train_mdnrnn, load_mdnrnn
from world_models.presets import mdn_preset
from world_models.vae import ConvVAE, encode_rollouts

@pytest.mark.parametrize('args, kw, paper', [((32, 3, 256), {}, 422_368), ((64, 1, 512), {'predict_done': True}, 1_678_785)])
def test_parameter_counts_match_the_paper(args, kw, paper):
    m = MDNRNN(*args, **kw)
    assert sum(p.numel() for p in m.parameters()) == paper
    assert m.head.out_features == 3 * 5 * args[0] + int(kw.get('predict_done', False))

def test_one_bias_per_gate_is_the_constant_input_column():
    torch.manual_seed(0); m = MDNRNN(4, 2, 8)
    W_ih, W_hh = m.lstm.weight_ih_l0, m.lstm.weight_hh_l0
    ref = torch.nn.LSTM(6, 8, batch_first=True)  # PyTorch's own cell, with b_ih = the column, b_hh = 0
    with torch.no_grad():
        ref.weight_ih_l0.copy_(W_ih[:, :-1]); ref.weight_hh_l0.copy_(W_hh); ref.bias_ih_l0.copy_(W_ih[:, -1]); ref.bias_hh_l0.zero_()
    z, a = torch.randn(3, 5, 4), torch.randn(3, 5, 2)
    torch.testing.assert_close(m(z, a)[0]['h'], ref(torch.cat([z, a], -1))[0])
    assert torch.all(W_ih[8:16, -1] == 1)  # forget-gate bias starts at 1, as TensorFlow's cell

def test_nll_matches_mixture_same_family():
    torch.manual_seed(0)
    lp, mu, ls = F.log_softmax(torch.randn(7, 32, 5), -1), torch.randn(7, 32, 5) * 2, torch.randn(7, 32, 5)
    z = torch.randn(7, 32) * 3
    ref = torch.distributions.MixtureSameFamily(torch.distributions.Categorical(logits=lp), torch.distributions.Normal(mu, ls.exp()))
    torch.testing.assert_close(mdn_nll(lp, mu, ls, z), -ref.log_prob(z), rtol=1e-5, atol=1e-5)
    assert torch.isfinite(mdn_nll(lp, mu, ls, z + 1e4)).all()

def test_done_loss_weights_positives_ten_times():
    l = done_loss(torch.tensor([0.3, 0.3]), torch.tensor([1., 0.]))
    torch.testing.assert_close(l[0], 10 * F.softplus(torch.tensor(-0.3)))
    torch.testing.assert_close(l[1], F.softplus(torch.tensor(0.3)))

def test_temperature_as_the_reference_code():
    g = torch.Generator().manual_seed(0); n = 40000
    lp = torch.log(torch.tensor([0.7, 0.3])).expand(n, 2); mu = torch.tensor([-3., 3.]).expand(n, 2); ls = torch.zeros(n, 2)
    for tau in (0.5, 1.0, 1.5):
        s = sample_mdn(lp, mu, ls, tau, g)
        w = torch.softmax(torch.log(torch.tensor([0.7, 0.3])) / tau, 0)[1]
        assert abs((s > 0).float().mean() - w) < 0.01
        assert abs(s[s > 0].std() - math.sqrt(tau)) < 0.03  # sigma = 1, noise scaled by sqrt(tau)

def test_step_matches_the_sequence_forward():
    torch.manual_seed(0); m = MDNRNN(8, 1, 16, predict_done=True)
    z, a, r = torch.randn(2, 6, 8), torch.randn(2, 6, 1), torch.zeros(2, 6); r[:, 0] = 1
    seq, _ = m(z, a, r); st = None
    with torch.no_grad():
        for t in range(6):
            one, st = m.step(z[:, t], a[:, t], r[:, t], st)
            torch.testing.assert_close(one['log_pi'], seq['log_pi'][:, t], rtol=1e-5, atol=1e-5)
            torch.testing.assert_close(one['done_logit'], seq['done_logit'][:, t], rtol=1e-5, atol=1e-5)

def wave_series(out, n=4, T=80, z=64):
    "Encoded-series files whose codes are slow sine waves (nearly noiseless): a sequence M can learn to predict."
    from world_models.data import save_rollout
    rng, paths = np.random.default_rng(0), []
    for i in range(n):
        t, ph = np.arange(T)[:, None], rng.uniform(0, 2 * np.pi, z)
        d = dict(mu=np.sin(0.2 * t + ph).astype(np.float32), logvar=np.full((T, z), -8, np.float32),
                 action=rng.choice([-1., 0., 1.], (T, 1)).astype(np.float32), reward=np.ones(T, np.float32), done=np.arange(T) == T - 1)
        paths.append(save_rollout(out / f'rollout_{i:05d}.npz', d, {'index': i}))
    return paths

def test_training_learns_and_resumes_exactly(doom_smoke, tmp_path):
    src, _ = doom_smoke
    torch.manual_seed(0); series = encode_rollouts(ConvVAE(64), sorted(src.glob('rollout_*.npz')), tmp_path / 'enc', progress=False)
    cfg = mdn_preset('doom', 'smoke', max_steps=6, hidden_dim=32)
    a = train_mdnrnn(series, tmp_path / 'a', cfg, progress=False)
    train_mdnrnn(series, tmp_path / 'b', mdn_preset('doom', 'smoke', max_steps=3, hidden_dim=32), progress=False)
    b = train_mdnrnn(series, tmp_path / 'b', cfg, progress=False)
    for x, y in zip(a.state_dict().values(), b.state_dict().values()): assert torch.equal(x, y)
    waves = wave_series(tmp_path / 'waves')  # an untrained V's codes are noise: nothing to learn; waves are predictable
    long = train_mdnrnn(waves, tmp_path / 'c', mdn_preset('doom', 'smoke', max_steps=60, epochs=100, hidden_dim=32, lr=3e-3), progress=False)
    rows = list(csv.DictReader((tmp_path / 'c' / 'mdnrnn_metrics.csv').open()))
    first, last = np.mean([float(r['z_loss']) for r in rows[:3]]), np.mean([float(r['z_loss']) for r in rows[-5:]])
    assert last < first - 0.2, (first, last)
    with pytest.raises(ValueError, match='mdnrnn.pt: checkpoint is for MDNRNN'):
        train_mdnrnn(series, tmp_path / 'a', mdn_preset('doom', 'smoke', max_steps=8, hidden_dim=64), progress=False)
    m = load_mdnrnn(tmp_path / 'a' / 'mdnrnn.safetensors'); assert m.hidden_dim == 32 and m.predict_done

def test_lr_decays_as_the_reference(doom_smoke, tmp_path):
    src, _ = doom_smoke
    torch.manual_seed(0); series = encode_rollouts(ConvVAE(64), sorted(src.glob('rollout_*.npz'))[:2], tmp_path / 'enc', progress=False)
    cfg = mdn_preset('doom', 'smoke', max_steps=3, epochs=3, hidden_dim=16, lr_decay=0.5, min_lr=1e-4)  # 1 step per epoch
    import world_models.mdnrnn as M
    seen = []
    orig = torch.optim.Adam.step
    def spy(self, *a, **k): seen.append(self.param_groups[0]['lr']); return orig(self, *a, **k)
    torch.optim.Adam.step = spy
    try: train_mdnrnn(series, tmp_path / 'm', cfg, progress=False)
    finally: torch.optim.Adam.step = orig
    assert seen == pytest.approx([(1e-3 - 1e-4) * 0.5 ** s + 1e-4 for s in range(3)])
