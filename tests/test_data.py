"Tests of world_models.data: preprocessing, policies, shards, collection and the streaming datasets."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np, pytest, torch
from world_models.data import (CarRandomWeights, CarWander, DoomRandomHold, FrameDataset, RolloutError, SequenceDataset,
    collect_preset, collect_rollouts, load_rollout, make_env, play_episode, preprocess_car, preprocess_doom, raw_frame,
    save_rollout, shard_ok, shard_path, episode_seed)

def test_preprocess_shapes_and_content():
    car = np.zeros((96, 96, 3), np.uint8); car[84:] = 255  # a white dashboard only
    out = preprocess_car(car)
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    assert out.max() == 0, "the dashboard rows 84:96 must be dropped"
    doom = np.zeros((240, 320, 3), np.uint8); doom[200:] = 255  # a white bottom sixth
    out = preprocess_doom(doom)
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8 and out.max() == 0
    doom[:200, :160] = 100  # left half grey: survives, halved by the resize
    assert preprocess_doom(doom)[:, :32].min() == 100 and preprocess_doom(doom)[:, 32:].max() == 0

def test_preprocess_rejects_bad_frames():
    with pytest.raises(ValueError, match=r"preprocess_car\(frame\).*\(96, 96, 3\)"): preprocess_car(np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(ValueError, match='uint8'): preprocess_doom(np.zeros((240, 320, 3), np.float32))
    with pytest.raises(ValueError, match='shape'): preprocess_doom(np.zeros((240, 320), np.uint8))

def test_real_frames_preprocess():
    for env, prep in [('carracing', preprocess_car), ('doom', preprocess_doom)]:
        e = make_env(env); f = prep(raw_frame(e.reset(seed=0)[0])); e.close()
        assert f.shape == (64, 64, 3) and f.dtype == np.uint8 and f.std() > 1  # a real picture, not a blank

def test_load_rollout_names_bad_files(doom_smoke, tmp_path):
    src, _ = doom_smoke
    data = shard_path(src, 0).read_bytes()
    cut = tmp_path / 'rollout_00007.npz'; cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(RolloutError, match='rollout_00007.npz'): load_rollout(cut)
    assert not shard_ok(cut)
    junk = tmp_path / 'junk.npz'; junk.write_bytes(os.urandom(5000))
    with pytest.raises(RolloutError, match='junk.npz.*corrupt or truncated'): load_rollout(junk)
    with pytest.raises(FileNotFoundError, match='nope.npz'): load_rollout(tmp_path / 'nope.npz')
    ep = load_rollout(shard_path(src, 1))  # the others still load
    bad = dict(ep); bad.pop('meta'); bad['reward'] = bad['reward'][:-1]
    save_rollout(tmp_path / 'short.npz', bad, {})
    with pytest.raises(RolloutError, match='short.npz.*different lengths'): load_rollout(tmp_path / 'short.npz')
    bad = dict(ep); bad.pop('meta'); bad['obs'] = bad['obs'].astype(np.float32)
    save_rollout(tmp_path / 'f32.npz', bad, {})
    with pytest.raises(RolloutError, match="f32.npz.*'obs' has dtype float32"): load_rollout(tmp_path / 'f32.npz')

def test_shards_have_the_documented_layout(doom_smoke):
    src, man = doom_smoke
    for e in man['episodes']:
        d = load_rollout(shard_path(src, e['index']))
        T = e['steps']
        assert d['obs'].shape == (T, 64, 64, 3) and d['obs'].dtype == np.uint8
        assert d['action'].shape == (T, 1) and d['action'].dtype == np.float32
        assert set(np.unique(d['action'])) <= {-1., 0., 1.}
        assert d['reward'].shape == (T,) and d['done'].dtype == bool
        assert T > 100, 'Doom episodes of <= 100 frames are dropped'
        assert d['done'][-1] == e['terminated'] and not d['done'][:-1].any()

def test_collection_is_reproducible_across_worker_counts(doom_smoke, tmp_path):
    src, man = doom_smoke  # collected with 2 workers
    one = collect_rollouts(collect_preset('doom', 'smoke'), tmp_path, seed=0, workers=1, progress=False)
    assert [e['seed'] for e in one['episodes']] == [e['seed'] for e in man['episodes']]
    for i in range(4):
        a, b = load_rollout(shard_path(src, i)), load_rollout(shard_path(tmp_path, i))
        for k in ('obs', 'action', 'reward', 'done'): np.testing.assert_array_equal(a[k], b[k])
    other = collect_rollouts(collect_preset('doom', 'smoke', n_rollouts=1), tmp_path / 's1', seed=1, workers=1, progress=False)
    assert other['episodes'][0]['seed'] != man['episodes'][0]['seed']

def test_rerun_skips_and_extends(tmp_path):
    cfg = collect_preset('doom', 'smoke', n_rollouts=2)
    collect_rollouts(cfg, tmp_path, workers=1, progress=False)
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.glob('rollout_*.npz')}
    again = collect_rollouts(cfg, tmp_path, workers=1, progress=False)
    assert again['last_run']['new_episodes'] == 0
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob('rollout_*.npz')} == mtimes
    more = collect_rollouts(collect_preset('doom', 'smoke', n_rollouts=3), tmp_path, workers=1, progress=False)
    assert more['last_run']['new_episodes'] == 1 and more['n_episodes'] == 3
    with pytest.raises(ValueError, match='collect.json.*max_steps'):
        collect_rollouts(collect_preset('doom', 'smoke', max_steps=500), tmp_path, workers=1, progress=False)
    with pytest.raises(ValueError, match='collect.json.*seed'):
        collect_rollouts(cfg, tmp_path, seed=5, workers=1, progress=False)

def test_truncated_shard_is_redone(tmp_path):
    cfg = collect_preset('doom', 'smoke', n_rollouts=2)
    collect_rollouts(cfg, tmp_path, workers=1, progress=False)
    p = shard_path(tmp_path, 1); good = load_rollout(p)
    p.write_bytes(p.read_bytes()[:1000])
    man = collect_rollouts(cfg, tmp_path, workers=1, progress=False)
    assert man['last_run']['new_episodes'] == 1
    np.testing.assert_array_equal(load_rollout(p)['obs'], good['obs'])

def test_killed_collection_leaves_only_whole_shards_and_resumes(tmp_path):
    exe = Path(sys.executable).parent / 'world-models'
    cmd = [str(exe), 'collect', '--env', 'doom', '--preset', 'smoke',
           '--rollouts', '40', '--workers', '1', '--out', str(tmp_path), '--quiet']
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    out = tmp_path / 'rollouts'; t0 = time.time()
    while len(list(out.glob('rollout_*.npz'))) < 3 and time.time() - t0 < 60: time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL); proc.wait()  # the whole group, as a terminal's kill would: VizDoom too
    done = sorted(out.glob('rollout_*.npz'))
    assert 3 <= len(done) < 40, 'the run was killed part-way'
    for p in done: load_rollout(p)  # every shard present is whole
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    last = json.loads(res.stdout.strip().splitlines()[-1])
    assert last['new_episodes'] == 40 - len(done) and last['episodes'] == 40
    assert not list(out.glob('.*.tmp'))

def test_doom_random_hold_statistics():
    pol = DoomRandomHold(); pol.reset(np.random.default_rng(1))
    holds, last, n = [], None, 0
    for _ in range(20000):
        before = pol.left; a = pol(None)[0]
        if before == 0: holds.append(pol.left + 1)  # a fresh draw: its hold length
    assert set(holds) == set(range(1, 11))
    assert abs(np.mean(holds) - 5.5) < 0.15

def test_wander_sees_more_road_than_random_weights(tmp_path):
    "The documented alternative policy covers the track better than the paper's random-weights policy."
    def road_fraction(policy):
        cfg = collect_preset('carracing', 'smoke', n_rollouts=3, max_steps=250, policy=policy)
        man = collect_rollouts(cfg, tmp_path / policy, workers=2, progress=False)
        obs = np.concatenate([load_rollout(shard_path(tmp_path / policy, e['index']), ['obs'])['obs'][100:] for e in man['episodes']])
        band = obs[:, 28:44].astype(np.int16)
        return ((band[..., 1] < 150) & (np.abs(band[..., 0] - band[..., 1]) < 20)).mean()
    wander, paper = road_fraction('wander'), road_fraction('random_weights')
    assert wander > paper + 0.1, (wander, paper)

def test_car_random_weights_is_nearly_constant():
    pol = CarRandomWeights(); frame = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    for s in range(5):
        pol.reset(np.random.default_rng(s))
        np.testing.assert_allclose(pol(frame), [0., .5, 0.], atol=0.05)

def test_frame_dataset_streams_every_frame_once(doom_smoke):
    src, man = doom_smoke
    paths = sorted(src.glob('rollout_*.npz'))
    ds = FrameDataset(paths, batch_size=50, pool=2, seed=3)
    dl = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2)
    frames = torch.cat(list(dl))
    assert len(frames) == man['n_steps'] == ds.n_frames()
    ref = np.concatenate([load_rollout(p, ['obs'])['obs'] for p in paths])
    key = lambda a: sorted(map(bytes, np.asarray(a).reshape(len(a), -1)))
    assert key(frames.numpy()) == key(ref)  # the same multiset of frames
    assert not np.array_equal(frames.numpy(), ref), 'frames are shuffled'

def test_sequence_dataset_windows(doom_smoke):
    src, man = doom_smoke
    paths = sorted(src.glob('rollout_*.npz'))
    ds = SequenceDataset(paths, seq_len=120, keys=('obs', 'action', 'reward', 'done'), batch_size=2, seed=0)
    batches = list(ds)
    assert [len(b['mask']) for b in batches] == [2, 2]
    for b in batches:
        assert b['obs'].shape == (2, 120, 64, 64, 3) and b['mask'].all()  # every episode is longer than 120
        assert (b['reward'] == 1).all()  # TakeCover's +1 per frame, for steps inside the episode
    full = {shard_path(src, e['index']).name: load_rollout(shard_path(src, e['index'])) for e in man['episodes']}
    w = ds.window(next(iter(full.values())), np.random.default_rng(0))
    obs = next(iter(full.values()))['obs']
    starts = [s for s in range(len(obs) - 119) if np.array_equal(obs[s:s + 120], w['obs'])]
    assert starts, 'a window is a contiguous slice of its episode'
    with pytest.raises(ValueError, match='no files'): SequenceDataset([], 10)
