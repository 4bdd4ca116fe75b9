"Run folders under stress (issue 21): orphans after `kill -9`, and results that must not depend on the number of workers."
import csv, io, json, os, shutil, signal, subprocess, sys, time
from pathlib import Path
import pytest
from safetensors.torch import load_file

EXE = shutil.which('world-models', path=str(Path(sys.executable).parent)) or 'world-models'

def descendants(pid:int) -> set:
    "Every live process below `pid` (from /proc)."
    kids = {}
    for p in Path('/proc').iterdir():
        if p.name.isdigit():
            try: ppid = int((p / 'stat').read_text().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError): continue
            kids.setdefault(ppid, []).append(int(p.name))
    out, todo = set(), [pid]
    while todo:
        for k in kids.get(todo.pop(), []): out.add(k); todo.append(k)
    return out

def alive(pid:int) -> bool:
    try: s = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0]
    except OSError: return False
    return s != 'Z'

@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='PR_SET_PDEATHSIG is Linux')
def test_workers_and_games_die_with_a_killed_cli(tmp_path):
    "kill -9 of `world-models collect` mid-run: its pool workers and their ViZDoom games end within seconds."
    p = subprocess.Popen([EXE, 'collect', '--env', 'doom', '--preset', 'smoke', '--rollouts', '40', '--workers', '2',
                          '--out', str(tmp_path), '--quiet'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while time.time() - t0 < 120 and len(kids := descendants(p.pid)) < 4: time.sleep(0.5)  # 2 workers and their games
    assert len(kids) >= 2, 'the pool never started'
    time.sleep(2); kids = descendants(p.pid) - {p.pid}
    p.send_signal(signal.SIGKILL); p.wait()
    t0 = time.time()
    while time.time() - t0 < 30 and any(alive(k) for k in kids): time.sleep(0.5)
    left = [k for k in kids if alive(k)]
    for k in left: os.kill(k, signal.SIGKILL)
    assert not left, f'{len(left)} of {len(kids)} processes outlived the CLI'

def test_dream_training_does_not_depend_on_the_worker_count(tmp_path):
    "Same seed, --workers 1 (in this process) and --workers 2 (a pool): the same controller, bit for bit."
    res = {}
    for w, be in ((1, 'serial'), (2, 'local')):
        out = tmp_path / f'w{w}'
        r = subprocess.run([EXE, 'train-controller', '--env', 'doom', '--preset', 'smoke', '--in-dream', '--shipped', '--out', str(out),
                            '--workers', str(w), '--backend', be, '--generations', '1', '--popsize', '4', '--quiet'], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        res[w] = (load_file(out / 'controller' / 'controller.safetensors'), (out / 'controller' / 'generations.csv').read_text())
    (c1, g1), (c2, g2) = res[1], res[2]
    strip = lambda text: [{k: v for k, v in r.items() if k != 'seconds'} for r in csv.DictReader(io.StringIO(text))]  # not wall-clock
    assert strip(g1) == strip(g2)
    assert all((c1[k] == c2[k]).all() for k in c1)
