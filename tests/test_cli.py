"The `world-models` console script, as a user runs it."
import json, shlex, shutil, subprocess, sys
from pathlib import Path
import pytest

EXE = shutil.which('world-models', path=str(Path(sys.executable).parent)) or 'world-models'

def run(*args, check=True):
    return subprocess.run([EXE, *args], capture_output=True, text=True, check=check)

@pytest.mark.parametrize('args', [['--help'], ['collect', '--help']])
def test_help(args):
    out = run(*args).stdout
    assert 'usage: world-models' in out
    if 'collect' in args:
        for flag in ('--env', '--preset', '--out', '--seed', '--workers'): assert flag in out

@pytest.mark.parametrize('args', [['--help'], ['--version'], ['train-controller', '--help'], ['presets', '--env', 'doom']])
def test_help_and_version_import_nothing_heavy(args):
    "`--help` answers at once: the command line imports neither torch nor the games until a command runs."
    code = ("import sys, runpy; sys.argv = ['world-models', *sys.argv[1:]]\n"
            "try: runpy.run_module('world_models', run_name='__main__')\n"
            "except SystemExit: pass\n"
            "print('HEAVY', sorted(m for m in ('torch', 'numpy', 'gymnasium', 'cv2', 'vizdoom') if m in sys.modules))")
    r = subprocess.run([sys.executable, '-c', code, *args], capture_output=True, text=True, check=True)
    assert r.stdout.strip().endswith('HEAVY []'), r.stdout[-300:]

def test_a_closed_pipe_is_not_an_error():
    "`world-models presets | head`: a reader that stops early (here: `true`, gone before anything is written) is no error."
    r = subprocess.run(f"{shlex.quote(EXE)} presets | true; echo ${{PIPESTATUS[0]}}", shell=True, capture_output=True,
                       text=True, executable='/bin/bash')
    assert 'Traceback' not in r.stderr and r.stdout.strip() == '0', (r.stdout, r.stderr)

def test_presets_prints_every_stage():
    out = run('presets', '--env', 'doom', '--preset', 'laptop').stdout
    assert out.startswith('doom / laptop')
    for stage in ('collect', 'vae', 'mdnrnn', 'controller', 'run'): assert f"  {stage} (" in out
    assert json.loads(run('presets', '--json').stdout)['presets']['carracing/paper']['controller']['generations'] == 1800

def test_collect_smoke_twice(tmp_path):
    out = tmp_path / 'runs' / 'smoke'
    first = json.loads(run('collect', '--env', 'doom', '--preset', 'smoke', '--out', str(out)).stdout.splitlines()[-1])
    assert first['episodes'] == first['new_episodes'] == 4
    shards = sorted((out / 'rollouts').glob('rollout_*.npz'))
    mtimes = [p.stat().st_mtime_ns for p in shards]
    second = json.loads(run('collect', '--env', 'doom', '--preset', 'smoke', '--out', str(out)).stdout.splitlines()[-1])
    assert second['new_episodes'] == 0 and second['episodes'] == 4
    assert [p.stat().st_mtime_ns for p in shards] == mtimes
    man = json.loads((out / 'rollouts' / 'manifest.json').read_text())
    cfg = json.loads((out / 'rollouts' / 'collect.json').read_text())
    assert man['n_episodes'] == 4 and cfg['seed'] == 0 and cfg['env'] == 'doom'

def test_bad_input_is_one_clear_line(tmp_path):
    r = run('collect', '--preset', 'huge', check=False)
    assert r.returncode == 2 and "invalid choice: 'huge'" in r.stderr
    r = run('collect', '--env', 'doom', '--preset', 'smoke', '--workers', '0', '--out', str(tmp_path), check=False)
    assert r.returncode == 2 and "argument --workers: expected a whole number >= 1, got '0'" in r.stderr and 'Traceback' not in r.stderr
    r = run('collect', '--env', 'doom', '--preset', 'smoke', '--policy', 'wander', '--out', str(tmp_path), check=False)
    assert r.returncode == 2 and 'is for carracing' in r.stderr

def test_run_doom_smoke_end_to_end_then_evaluate(tmp_path):
    "The whole Doom recipe on real VizDoom at tiny sizes: collect, V, M, C in the dream, real evaluation, report."
    out = tmp_path / 'doom'
    res = json.loads(run('run', 'doom', '--preset', 'smoke', '--out', str(out), '--quiet').stdout.splitlines()[-1])
    assert list(res['stages']) == ['collect', 'vae', 'mdnrnn', 'controller', 'evaluate']
    assert res['stages']['controller']['result']['in_dream'] and res['stages']['evaluate']['result']['mean'] > 0
    rep = json.loads((out / 'report.json').read_text()); md = (out / 'report.md').read_text()
    assert rep['stages'] == res['stages'] and '| controller |' in md and 'Real-game score' in md
    v = res['stages']['controller']['result']['vetoed']  # the smoke preset vetoes near-constant Cs, as laptop does
    assert v['max_share'] == 0.9 and 0 <= v['vetoed'] <= v['judged'] and v['judged'] >= 4 and 'near-constant veto' in md
    ev = json.loads(run('evaluate', 'doom', '--agent', str(out), '--episodes', '3', '--seed', '7').stdout.splitlines()[-1])
    assert {k: ev[k] for k in ('env', 'episodes', 'seed')} == {'env': 'doom', 'episodes': 3, 'seed': 7} and ev['mean'] > 0 and ev['std'] >= 0
    r = run('evaluate', 'carracing', '--agent', str(out), check=False)
    assert r.returncode == 2 and 'plays doom, not carracing' in r.stderr

def test_run_carracing_smoke_end_to_end_then_ablate(tmp_path):
    "The whole CarRacing recipe at tiny sizes: collect, V, M, C evolved in the real game, full-episode evaluation, report; then one ablation controller."
    out = tmp_path / 'car'
    res = json.loads(run('run', 'carracing', '--preset', 'smoke', '--out', str(out), '--quiet').stdout.splitlines()[-1])
    assert list(res['stages']) == ['collect', 'vae', 'mdnrnn', 'controller', 'evaluate']
    assert not res['stages']['controller']['result']['in_dream'] and res['stages']['controller']['result']['generations'] == 3
    ev = res['stages']['evaluate']['result']; assert ev['env'] == 'carracing' and ev['episodes'] == 2 and -100 <= ev['mean'] < 1000
    assert 'Real-game score' in (out / 'report.md').read_text()
    tr = json.loads(run('train-controller', '--env', 'carracing', '--preset', 'smoke', '--out', str(out), '--controller', 'carracing-vh',
                        '--name', 'vh', '--generations', '1', '--quiet').stdout.splitlines()[-1])
    assert tr['out'].endswith('vh') and json.loads((out / 'vh' / 'agent.json').read_text())['controller'] == 'carracing-vh'
    ev = json.loads(run('evaluate', 'carracing', '--agent', str(out), '--name', 'vh', '--episodes', '1', '--seed', '3').stdout.splitlines()[-1])
    assert {k: ev[k] for k in ('env', 'episodes', 'seed')} == {'env': 'carracing', 'episodes': 1, 'seed': 3}
    r = run('train-controller', '--env', 'carracing', '--preset', 'smoke', '--out', str(out), '--controller', 'doom', check=False)
    assert r.returncode == 2 and 'not a controller for carracing' in r.stderr

def test_train_controller_without_models_says_what_to_run(tmp_path):
    r = run('train-controller', '--env', 'doom', '--in-dream', '--out', str(tmp_path), check=False)
    assert r.returncode == 2 and 'no vae, mdnrnn, z0 found' in r.stderr and 'Traceback' not in r.stderr
    r = run('train-controller', '--env', 'carracing', '--in-dream', '--shipped', '--out', str(tmp_path), check=False)
    assert r.returncode == 2 and 'only Doom' in r.stderr

def test_train_controller_in_several_dreams(tmp_path):
    "--worlds: other Ms dream too (here a second copy of the shipped M); the run records them; bad uses are refused by name."
    world = tmp_path / 'other_m.safetensors'; shutil.copy(Path(__file__).parents[1] / 'assets' / 'mdnrnn_doom.safetensors', world)
    tr = json.loads(run('train-controller', '--env', 'doom', '--preset', 'smoke', '--in-dream', '--shipped', '--out', str(tmp_path),
                        '--worlds', str(world), '--quiet').stdout.splitlines()[-1])
    assert tr['generations'] == 3 and tr['best']['mean'] >= 1
    rec = json.loads((tmp_path / 'controller' / 'agent.json').read_text())
    assert rec['worlds'] == [str(world)] and rec['judge'] == 'worst' and rec['in_dream']
    r = run('train-controller', '--env', 'doom', '--preset', 'smoke', '--shipped', '--out', str(tmp_path), '--worlds', str(world), check=False)
    assert r.returncode == 2 and 'only with --in-dream' in r.stderr
    for bad in ('0', '1.5', 'nan'):  # a share of a dream's steps: (0, 1]
        r = run('train-controller', '--env', 'doom', '--preset', 'smoke', '--in-dream', '--shipped', '--out', str(tmp_path / 'v'),
                '--max-share', bad, check=False)
        assert r.returncode == 2 and '--max-share=' in r.stderr and 'expected a share in (0, 1]' in r.stderr and 'Traceback' not in r.stderr
    r = run('train-controller', '--env', 'doom', '--preset', 'smoke', '--in-dream', '--shipped', '--out', str(tmp_path / 'b'),
            '--worlds', str(tmp_path / 'missing.safetensors'), check=False)
    assert r.returncode == 2 and 'no such M file' in r.stderr and 'missing.safetensors' in r.stderr and 'Traceback' not in r.stderr
    car_m = Path(__file__).parents[1] / 'assets' / 'mdnrnn_carracing.safetensors'
    r = run('train-controller', '--env', 'doom', '--preset', 'smoke', '--in-dream', '--shipped', '--out', str(tmp_path / 'c'), '--worlds', str(car_m), check=False)
    assert r.returncode == 2 and 'mdnrnn_carracing.safetensors is an M for z=32' in r.stderr

def test_train_on_a_device_with_data_in_memory(tmp_path):
    "--device and --in-memory reach V's and M's trainers, and the weights file records where they trained."
    from world_models.checkpoint import read_weights
    out = tmp_path / 'doom'
    run('collect', '--env', 'doom', '--preset', 'smoke', '--out', str(out), '--workers', '1')
    for cmd in ('train-vae', 'train-mdnrnn'):
        res = json.loads(run(cmd, '--env', 'doom', '--preset', 'smoke', '--out', str(out), '--device', 'cpu', '--in-memory', '--quiet').stdout.splitlines()[-1])
        name = res['out'].rsplit('/', 1)[-1]
        assert read_weights(out / name / f'{name}.safetensors')[2]['device'] == 'cpu'
    assert (out / 'mdnrnn' / 'z0.npz').exists() and '--in-memory' in run('train-mdnrnn', '--help').stdout
