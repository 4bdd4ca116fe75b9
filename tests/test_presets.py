"The presets table against the paper's numbers (../shared/PAPER.md), typed in again from the spec."
from world_models.presets import collect_preset, es_preset, mdn_preset, resolved_presets, run_preset, vae_preset

def test_paper_preset_is_the_paper():
    d, c = collect_preset('doom', 'paper'), collect_preset('carracing', 'paper')
    assert (d.n_rollouts, d.max_steps, d.min_steps, d.policy) == (10_000, 2_100, 100, 'random_hold')
    assert (c.n_rollouts, c.max_steps, c.policy) == (10_000, 1_000, 'random_weights')
    assert (vae_preset('doom', 'paper').z_dim, vae_preset('carracing', 'paper').z_dim) == (64, 32)
    v = vae_preset('carracing', 'paper'); assert (v.lr, v.batch_size, v.kl_tolerance) == (1e-4, 100, 0.5)
    m = mdn_preset('doom', 'paper')
    assert (m.hidden_dim, m.n_mix, m.seq_len, m.batch_size, m.lr, m.lr_decay, m.min_lr, m.done_weight, m.grad_clip) == \
           (512, 5, 500, 100, 1e-3, 0.99999, 1e-5, 10., 1.)
    assert (mdn_preset('carracing', 'paper').hidden_dim, mdn_preset('carracing', 'paper').seq_len) == (256, 999)
    for env, gens in (('doom', 200), ('carracing', 1_800)):
        e = es_preset(env, 'paper')
        assert (e.sigma0, e.popsize, e.rollouts, e.eval_every, e.eval_rollouts, e.generations) == (0.1, 64, 16, 25, 1024, gens)
    assert run_preset('doom', 'paper').eval_episodes == 100
    assert run_preset('doom', 'paper').max_share == 1.  # the paper judges by survival alone

def test_smaller_presets_keep_the_game():
    "`laptop` and `smoke` shrink budgets on top of the game's paper row: Doom's V and M keep their sizes."
    for p in ('smoke', 'laptop'):
        r = resolved_presets('doom', p)
        assert r['vae']['z_dim'] == 64 and r['mdnrnn']['hidden_dim'] == 512 and r['collect']['min_steps'] == 100
        assert r['run']['max_share'] == 0.9  # a near-constant C is vetoed in their dreams
    # laptop: one M on every episode (twice the steps of each half-data M); smoke keeps two, to test several worlds
    assert [resolved_presets('doom', p)['run']['worlds'] for p in ('laptop', 'smoke')] == [1, 2]
