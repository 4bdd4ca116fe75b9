"""Bad inputs a new user gives the CLI (flags, run folders, files), each answered by one clear message that names the flag or
file, a non-zero exit, and a run folder left exactly as it was (issue 21). The run folder is a tiny Doom run built from
synthetic shards in this process: no game, a few seconds."""
import hashlib, io, json, os, shutil
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import asdict
from pathlib import Path
import numpy as np, pytest, torch
from world_models.cli import main
from world_models.data import save_rollout, shard_path
from world_models.presets import collect_preset
from world_models.plumbing import save_json

ASSETS = Path(__file__).parents[1] / 'assets'

def cli(*argv) -> tuple[int, str]:
    "Run `world-models ARGV` in this process: (exit code, stderr)."
    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        try: rc = main([str(a) for a in argv])
        except SystemExit as e: rc = e.code
    return rc, err.getvalue()

def tree(run:Path) -> dict:
    "Relative path -> (size, mtime, inode, sha1 of small files) of every file under `run` (the lock file aside)."
    def sig(p):
        st = p.stat(); return st.st_size, st.st_mtime_ns, st.st_ino, hashlib.sha1(p.read_bytes()).hexdigest() if st.st_size < 2**20 else None
    return {str(p.relative_to(run)): sig(p) for p in sorted(run.rglob('*')) if p.is_file() and p.name != '.lock'}

def refused(run:Path, argv:list, *needles:str):
    "ARGV exits non-zero with a one-line message holding every needle, no traceback, and `run` unchanged."
    before = tree(run) if run.exists() else None
    rc, err = cli(*argv)
    assert rc not in (0, None), err
    assert 'Traceback' not in err and all(n in err for n in needles), err
    if before is not None: assert tree(run) == before, 'the run folder changed'
    return err

def fake_shards(folder:Path, env:str='doom', n:int=4, T:int=120, seed:int=0):
    "`n` synthetic episodes with the layout and meta `collect` writes."
    rng = np.random.default_rng(seed); A = 1 if env == 'doom' else 3
    for i in range(n):
        ep = dict(obs=rng.integers(0, 255, (T, 64, 64, 3), dtype=np.uint8), action=rng.choice([-1., 0., 1.], (T, A)).astype(np.float32),
                  reward=np.ones(T, np.float32), done=np.r_[np.zeros(T - 1, bool), True])
        save_rollout(shard_path(folder, i), ep, dict(env=env, index=i, seed=i, attempt=0, steps=T, ret=float(T), terminated=True, seconds=0.))

@pytest.fixture(scope='module')
def base(tmp_path_factory) -> Path:
    "A finished smoke Doom run: rollouts, V, M, z0, a controller evolved in the dream."
    run = tmp_path_factory.mktemp('base') / 'run'
    fake_shards(run / 'rollouts'); save_json(run / 'rollouts' / 'collect.json', {**asdict(collect_preset('doom', 'smoke')), 'seed': 0})
    common = ['--env', 'doom', '--preset', 'smoke', '--out', run, '--quiet', '--workers', '1']
    for cmd in (['train-vae'], ['train-mdnrnn'], ['train-controller', '--in-dream', '--backend', 'serial']):
        if cmd[0] == 'train-controller': die_young(run / 'mdnrnn' / 'mdnrnn.safetensors')
        rc, err = cli(*cmd, *common); assert rc == 0, err
    return run

def die_young(path:Path, bias:float=3.):
    "Make M's dreams end after a step or two (a large death bias), so that the fixture's dreams take no time."
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open
    with safe_open(path, 'pt') as f: meta = f.metadata()
    s = load_file(path); s['head.bias'][-1] = bias; save_file(s, path, metadata=meta)

@pytest.fixture
def run(base, tmp_path) -> Path:
    "A fresh copy of the base run for one test to damage."
    shutil.copytree(base, tmp_path / 'run'); return tmp_path / 'run'

def doom(cmd, run, *more): return [cmd, '--env', 'doom', '--preset', 'smoke', '--out', run, '--quiet', '--workers', '1', *more]
DREAM = ('--in-dream', '--backend', 'serial')

def poison(path:Path, key:str=None):
    "Overwrite one float tensor of a checkpoint (.pt) or weights file (.safetensors) with NaN, as flipped bytes would."
    if path.suffix == '.pt':
        c = torch.load(path, weights_only=True); k = key or next(iter(c['model'])); t = c['model'][k]; t[(0,) * t.ndim] = float('nan'); torch.save(c, path)
    else:
        from safetensors.torch import load_file, save_file
        from safetensors import safe_open
        with safe_open(path, 'pt') as f: meta = f.metadata()
        s = load_file(path); k = key or next(iter(s)); s[k][(0,) * s[k].ndim] = float('nan'); save_file(s, path, metadata=meta)

# --- 1. non-finite numbers stop a run, naming the file or stage ---

def test_nan_in_vae_checkpoint(run):
    poison(run / 'vae' / 'vae.pt'); refused(run, doom('train-vae', run, '--max-steps', '8'), 'vae.pt', 'NaN')

def test_nan_in_mdnrnn_checkpoint(run):
    poison(run / 'mdnrnn' / 'mdnrnn.pt'); refused(run, doom('train-mdnrnn', run, '--max-steps', '6'), 'mdnrnn.pt', 'NaN')

@pytest.mark.parametrize('part', ['vae/vae.safetensors', 'mdnrnn/mdnrnn.safetensors'])
def test_nan_in_weights_stops_the_controller(run, part):
    poison(run / part); shutil.rmtree(run / 'controller')
    refused(run, doom('train-controller', run, *DREAM), part.split('/')[1], 'NaN')

def test_nan_death_logits_stop_the_dream(run):
    "A dream whose M predicts NaN death logits would never die and score the cap; it must stop instead."
    from world_models.fitness import dream_scores
    from world_models.dream import load_z0
    from world_models.mdnrnn import load_mdnrnn
    m = load_mdnrnn(run / 'mdnrnn' / 'mdnrnn.safetensors')
    with torch.no_grad(): m.head.bias[-1] = float('nan')  # the death logit's bias
    with pytest.raises(ValueError, match='NaN or inf'): dream_scores(m, load_z0(run / 'mdnrnn' / 'z0.npz'), np.zeros((2, 1088)), 2, seed=0)

def test_nan_fitness_is_never_told(tmp_path):
    from world_models.evolve import train_controller
    from world_models.presets import es_preset
    class NaNFitness:
        def scores(self, X, rollouts, seed): return np.full((len(X), rollouts), np.nan)
    with pytest.raises(ValueError, match='generation 1: 4 of 4 candidates scored NaN'):
        train_controller(NaNFitness(), 'doom', tmp_path / 'c', es_preset('doom', 'smoke'), progress=False)
    assert not (tmp_path / 'c' / 'es.npz').exists()

@pytest.mark.parametrize('name', ['vae/vae_metrics.csv', 'mdnrnn/mdnrnn_metrics.csv'])
def test_bad_metrics_row_keeps_history(run, name):
    p = run / name; p.write_text(p.read_text() + 'oops,0,1,1,1\n')
    cmd = 'train-vae' if 'vae' in name else 'train-mdnrnn'
    refused(run, doom(cmd, run, '--max-steps', '8'), name.split('/')[1], "'oops'")

# --- 5. another game's files: a message naming the file and what was expected ---

@pytest.mark.parametrize('part, src, needle', [('mdnrnn/mdnrnn.safetensors', 'mdnrnn_carracing.safetensors', 'a doom M has 1'),
                                               ('vae/vae.safetensors', 'vae_carracing.safetensors', 'expects z=64'),
                                               ('mdnrnn/z0.npz', 'z0_carracing.npz', 'expects z=64')])
def test_carracing_part_in_a_doom_run(run, part, src, needle):
    shutil.copy(ASSETS / src, run / part); shutil.rmtree(run / 'controller')
    refused(run, doom('train-controller', run, *DREAM), part.split('/')[1], needle)

# --- 2. numbers that make no sense: argparse's error, naming the flag and the range ---

TC = ['train-controller', '--in-dream', '--backend', 'serial']
FLAGS = [(TC, '--tau', v, '(0, inf)') for v in ('0', '-1', 'nan', 'inf', 'abc')] + \
        [(TC, '--sigma0', v, '(0, inf)') for v in ('0', '-1', 'nan')] + \
        [(TC, '--popsize', v, '>= 2') for v in ('0', '1', '-3', '2.5')] + \
        [(TC, f, v, '>= 1') for f in ('--generations', '--rollouts') for v in ('0', '-1')] + \
        [([c], '--workers', v, '>= 1') for c in ('train-controller', 'train-vae', 'train-mdnrnn', 'collect') for v in ('0', '-2')] + \
        [([c], '--epochs', v, '>= 1') for c in ('train-vae', 'train-mdnrnn') for v in ('0', '-1')] + \
        [([c], '--max-steps', '-5', '>= 1') for c in ('train-vae', 'train-mdnrnn', 'collect')] + \
        [(['collect'], '--rollouts', v, '>= 1') for v in ('0', '-1')] + [(['train-vae'], '--seed', '-1', '>= 0')]

@pytest.mark.parametrize('cmd, flag, value, rng', FLAGS, ids=[f"{c[0]} {f} {v}" for c, f, v, _ in FLAGS])
def test_flag_out_of_range(base, cmd, flag, value, rng):
    run = base  # refused before anything runs: the shared run must stay as it is
    refused(run, doom(cmd[0], run, *cmd[1:], flag, value), f'argument {flag}:', rng, repr(value))

OTHER = [['evaluate', 'doom', '--episodes', '0'], ['evaluate', 'doom', '--dream', '--tau', 'nan'], ['evaluate', 'doom', '--workers', '0'],
         ['run', 'doom', '--tau', '0'], ['run', 'doom', '--workers', '0'], ['temperatures', '--taus', '1', '0'], ['temperatures', '--episodes', '0'],
         ['temperatures', '--generations', '0'], ['ablations', '--env', 'carracing', '--generations', '0'], ['ablations', '--episodes', '-1']]

@pytest.mark.parametrize('argv', OTHER, ids=' '.join)
def test_flag_out_of_range_elsewhere(base, argv):
    run = base
    flag = [a for a in argv if a.startswith('--')][-1]
    refused(run, [*argv, '--agent' if argv[0] == 'evaluate' else '--out', run], f'argument {flag}:')

def test_pycma_run_does_not_resume_from_disk(run):
    "es.npz is never unpickled: a pycma run's state is not stored, and resuming one is refused by name."
    shutil.rmtree(run / 'controller')
    assert cli(*doom('train-controller', run, *DREAM, '--optimizer', 'pycma', '--generations', '1'))[0] == 0
    with np.load(run / 'controller' / 'es.npz', allow_pickle=False) as z: assert all(z[k].dtype != object for k in z.files)
    refused(run, doom('train-controller', run, *DREAM, '--optimizer', 'pycma', '--generations', '2'), 'es.npz', 'cannot resume from disk')
def test_carracing_m_in_a_doom_run_at_evaluation(run):
    shutil.copy(ASSETS / 'mdnrnn_carracing.safetensors', run / 'mdnrnn' / 'mdnrnn.safetensors')
    refused(run, ['evaluate', 'doom', '--agent', run, '--dream', '--episodes', '1', '--workers', '1'], 'mdnrnn.safetensors')

# --- 3. stale or mixed artifacts: each records what it was made from; a later stage refuses what no longer matches ---

def test_copied_run_uses_its_own_files(run):
    "agent.json stores paths relative to the run folder, so a copy never reads the original's V and M."
    rec = json.loads((run / 'controller' / 'agent.json').read_text())
    assert (rec['vae'], rec['mdnrnn'], rec['z0']) == ('vae/vae.safetensors', 'mdnrnn/mdnrnn.safetensors', 'mdnrnn/z0.npz')

def test_v_replaced_after_the_controller(run):
    from world_models.checkpoint import save_weights
    from world_models.vae import ConvVAE
    v = ConvVAE(64); save_weights(run / 'vae' / 'vae.safetensors', v, v.config)
    refused(run, ['evaluate', 'doom', '--agent', run, '--dream', '--episodes', '1', '--workers', '1'], 'vae.safetensors', 'changed since the controller')

def test_resume_controller_with_another_tau(run):
    refused(run, doom('train-controller', run, *DREAM, '--tau', '1.0', '--generations', '4'), 'es.npz', "'tau': (1.15, 1.0)")

def test_resume_controller_after_m_changed(run):
    die_young(run / 'mdnrnn' / 'mdnrnn.safetensors', 2.)
    refused(run, doom('train-controller', run, *DREAM, '--generations', '4'), 'es.npz', "'mdnrnn'")

def test_train_vae_with_another_seed(run):
    refused(run, doom('train-vae', run, '--seed', '1', '--max-steps', '8'), 'vae.pt', 'seed=0, now 1')

def test_m_after_v_retrained(run):
    "V trained further re-encodes the series; the old M is then refused, by train-mdnrnn and by train-controller."
    assert cli(*doom('train-vae', run, '--max-steps', '7'))[0] == 0
    refused(run, doom('train-mdnrnn', run), 'mdnrnn.pt', 'was trained with vae=')
    refused(run, doom('train-controller', run, *DREAM, '--name', 'c2'), 'mdnrnn.safetensors', 'learned the latents of V')

@pytest.mark.parametrize('content', ['[]', '{"env": "doom"}', 'not json', None], ids=['list', 'partial', 'garbage', 'folder'])
def test_report_that_is_not_a_report(run, content):
    if content is None: (run / 'report.json').mkdir()
    else: (run / 'report.json').write_text(content)
    refused(run, ['run', 'doom', '--preset', 'smoke', '--out', run, '--quiet', '--workers', '1'], 'report.json')

FAKE = dict(mean=0., std=0., episodes=1, steps=1, new_episodes=0, episodes_per_min=0., steps_per_s=0., r_loss=0., encoded=1,
            train_episodes=1, validation_episodes=0, validation={}, in_dream=True, generations=1, seconds=0., best=None, seed=0)

def test_report_claiming_a_stage_whose_folder_is_gone(run, monkeypatch):
    "The stage whose files are gone is run again, and every later one; the earlier ones are not."
    import world_models.pipeline as pl
    ran = []
    monkeypatch.setattr(pl, 'experiment_stages', lambda *a, **k: [(s, lambda r, s=s: ran.append(s) or dict(FAKE)) for s in
                                                                   ('collect', 'vae', 'mdnrnn', 'controller', 'evaluate')])
    save_json(run / 'report.json', dict(env='doom', preset='smoke', seed=0, stages={s: dict(seconds=1, result=dict(FAKE)) for s in
                                                                                    ('collect', 'vae', 'mdnrnn', 'controller', 'evaluate')}))
    (run / 'rollouts' / 'manifest.json').write_text('{}'); shutil.rmtree(run / 'mdnrnn')
    pl.run_experiment('doom', 'smoke', run, progress=False)
    assert ran == ['mdnrnn', 'controller', 'evaluate']

# --- 4. wrong data: another game's shard, a garbled shard ---

def test_carracing_shard_in_a_doom_run(run):
    fake_shards(run / 'carracing', 'carracing', n=1); shutil.move(run / 'carracing' / 'rollout_00000.npz', run / 'rollouts' / 'rollout_00004.npz')
    shutil.rmtree(run / 'carracing')
    refused(run, doom('train-vae', run, '--max-steps', '8'), 'rollout_00004.npz', 'an episode of carracing')
    refused(run, doom('collect', run, '--rollouts', '5'), 'rollout_00004.npz', 'an episode of carracing')

def test_truncated_shard(run):
    p = run / 'rollouts' / 'rollout_00002.npz'; p.write_bytes(p.read_bytes()[:5000])
    refused(run, doom('train-vae', run, '--max-steps', '8'), 'rollout_00002.npz')

def test_garbled_shard_is_collected_again(run):
    "A shard whose bytes are garbled but whose zip directory is intact is not complete: collect plays that episode again."
    from world_models.data import load_rollout
    p = run / 'rollouts' / 'rollout_00001.npz'; b = bytearray(p.read_bytes()); b[len(b) // 2: len(b) // 2 + 64] = bytes(64); p.write_bytes(bytes(b))
    others = {q.name: q.read_bytes() for q in (run / 'rollouts').glob('rollout_*.npz') if q != p}
    rc, err = cli(*doom('collect', run)); assert rc == 0, err
    assert load_rollout(p)['meta']['env'] == 'doom'
    assert {q.name: q.read_bytes() for q in (run / 'rollouts').glob('rollout_*.npz') if q != p} == others

# --- 5. broken files and a full disk: a message naming the file, nothing partial left ---

@pytest.mark.parametrize('part, cmd', [('controller/es.npz', 'train-controller'), ('controller/controller.safetensors', 'evaluate'),
                                       ('vae/vae.pt', 'train-vae'), ('mdnrnn/mdnrnn.pt', 'train-mdnrnn'), ('mdnrnn/z0.npz', 'train-controller'),
                                       ('vae/vae.safetensors', 'train-controller'), ('controller/agent.json', 'evaluate')])
@pytest.mark.parametrize('damage', ['empty', 'truncated'])
def test_damaged_file(run, part, cmd, damage):
    p = run / part; p.write_bytes(b'' if damage == 'empty' else p.read_bytes()[:len(p.read_bytes()) // 2])
    if part in ('mdnrnn/z0.npz', 'vae/vae.safetensors'): shutil.rmtree(run / 'controller')
    argv = (['evaluate', 'doom', '--agent', run, '--dream', '--episodes', '1', '--workers', '1'] if cmd == 'evaluate' else
            doom(cmd, run, *(DREAM + ('--generations', '4') if cmd == 'train-controller' else ('--max-steps', '8'))))
    refused(run, argv, p.name)

def test_full_disk_names_the_file_and_leaves_nothing_partial(run, monkeypatch):
    import errno, world_models.evolve as ev
    def full(f, **kw): f.write(b'x' * 10); raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(ev.np, 'savez', full)
    es = (run / 'controller' / 'es.npz').read_bytes()
    rc, err = cli(*doom('train-controller', run, *DREAM, '--generations', '4'))
    assert rc == 2 and 'es.npz: No space left on device' in err and 'Traceback' not in err, err
    assert (run / 'controller' / 'es.npz').read_bytes() == es and not list(run.rglob('*.tmp'))

def test_read_only_out_names_the_folder(tmp_path, monkeypatch):
    "Simulated (tests may run as root, who may write anywhere): the folder refuses every new file."
    import tempfile
    def deny(*a, dir=None, **k): raise PermissionError(13, 'Permission denied', str(dir))
    fake_shards(tmp_path / 'ro' / 'rollouts'); monkeypatch.setattr(tempfile, 'mkstemp', deny)
    rc, err = cli(*doom('train-vae', tmp_path / 'ro'))
    assert rc == 2 and 'Permission denied' in err and str(tmp_path / 'ro') in err and 'Traceback' not in err, err

# --- 6. leftovers: a second command on one folder, stale temporary files ---

def test_second_command_on_a_busy_folder(run):
    from world_models.plumbing import run_lock
    with run_lock(run): refused(run, doom('train-mdnrnn', run), 'already in use by PID', str(os.getpid()))

def test_stale_temporary_files_are_cleaned(run):
    stale = [run / 'vae' / '.vae.pt.k1ll3d.tmp', run / 'controller' / '.es.npz.x.tmp']
    for p in stale: p.write_bytes(b'half a file')
    rc, err = cli(*doom('train-mdnrnn', run)); assert rc == 0, err
    assert not any(p.exists() for p in stale)
