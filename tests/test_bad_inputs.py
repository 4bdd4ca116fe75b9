"""Bad inputs a new user gives the CLI (flags, run folders, files), each answered by one clear message that names the flag or
file, a non-zero exit, and a run folder left exactly as it was (issue 21). The run folder is a tiny Doom run built from
synthetic shards in this process: no game, a few seconds."""
import hashlib, io, json, os, shutil
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import asdict
from pathlib import Path
import numpy as np, pytest, torch
from world_models.cli import main
from world_models.data import collect_preset, save_json, save_rollout, shard_path

ASSETS = Path(__file__).parents[1] / 'assets'

def cli(*argv) -> tuple[int, str]:
    "Run `world-models ARGV` in this process: (exit code, stderr)."
    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        try: rc = main([str(a) for a in argv])
        except SystemExit as e: rc = e.code
    return rc, err.getvalue()

def tree(run:Path) -> dict:
    "Relative path -> sha1 of every file under `run` (the lock file aside)."
    return {str(p.relative_to(run)): hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(run.rglob('*'))
            if p.is_file() and p.name != '.lock'}

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

def die_young(path:Path):
    "Make M's dreams end after a step or two (a large death bias), so that the fixture's dreams take no time."
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open
    with safe_open(path, 'pt') as f: meta = f.metadata()
    s = load_file(path); s['head.bias'][-1] = 3.; save_file(s, path, metadata=meta)

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
    from world_models.agent import dream_scores
    from world_models.dream import load_z0
    from world_models.mdnrnn import load_mdnrnn
    m = load_mdnrnn(run / 'mdnrnn' / 'mdnrnn.safetensors')
    with torch.no_grad(): m.head.bias[-1] = float('nan')  # the death logit's bias
    with pytest.raises(ValueError, match='NaN or inf'): dream_scores(m, load_z0(run / 'mdnrnn' / 'z0.npz'), np.zeros((2, 1088)), 2, seed=0)

def test_nan_fitness_is_never_told(tmp_path):
    from world_models.evolve import es_preset, train_controller
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
