"""JupyterLab's Run All on every chapter: all cells (nbdev's `#| eval: false` and `slow` flags ignored, as Jupyter
ignores them), in a kernel, on a git copy of the project; no error, <= 120 s each, and nothing tracked or untracked
left behind (`git status --porcelain` stays empty). `WM_RUN_ALL=0` skips it (the slowest test file);
`WM_RUN_ALL_LIMIT_S` raises the limit on a machine busy with other work; `WM_RUN_ALL_TIMES=FILE` appends each chapter's
time (and the slowest cells) to FILE as a JSON line, for the README's table."""
import json, os, shutil, subprocess, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p.name for p in (ROOT / 'nbs').glob('*.ipynb'))
LIMIT_S = int(os.environ.get('WM_RUN_ALL_LIMIT_S', 120))  # seconds per notebook on an idle 2-core machine
pytestmark = pytest.mark.skipif(os.environ.get('WM_RUN_ALL') == '0', reason='WM_RUN_ALL=0: Run All test skipped')

def git(cwd, *args):
    return subprocess.run(['git', *args], cwd=cwd, check=True, capture_output=True, text=True).stdout

@pytest.fixture(scope='module')
def project(tmp_path_factory):
    "A committed copy of the project's tracked files (with any uncommitted edits), its own git repository."
    dst = tmp_path_factory.mktemp('runall') / 'project'
    files = git(ROOT, 'ls-files', '-z', '--cached', '--others', '--exclude-standard').split('\0')
    for f in filter(None, files):
        src = ROOT / f
        if not (src.is_symlink() or src.is_file()): continue
        (dst / f).parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink(): (dst / f).symlink_to(os.readlink(src))  # world_models/assets -> ../assets
        else: shutil.copy2(src, dst / f)
    git(dst, 'init', '-q'); git(dst, 'add', '-A')
    git(dst, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'snapshot')
    return dst

def run_all(nb_path:Path, cwd:Path, timeout:int) -> float:
    "Execute every cell of the notebook at `nb_path` in a fresh kernel started in `cwd`; returns the seconds it took."
    import nbformat, psutil
    from nbclient import NotebookClient
    nb = nbformat.read(nb_path, as_version=4)  # executed in memory: the notebook file is never written
    client = NotebookClient(nb, timeout=timeout, kernel_name='python3', resources={'metadata': {'path': str(cwd)}})
    kids = []
    with client.setup_kernel():
        kernel = psutil.Process(client.km.provisioner.pid)
        t0 = time.perf_counter()
        try:
            for i, cell in enumerate(nb.cells): client.execute_cell(cell, i)
        finally:
            secs = time.perf_counter() - t0; kids = kernel.children(recursive=True)
    for p in kids:  # a ViZDoom engine whose kernel exits outlives it: stop it here rather than leave it running
        if p.is_running(): p.kill()
    slow = slowest(nb); print(f"{nb_path.name}: Run All {secs:.1f} s; slowest cells: {slow}")
    if log := os.environ.get('WM_RUN_ALL_TIMES'):
        with open(log, 'a') as f: f.write(json.dumps(dict(notebook=nb_path.name, seconds=round(secs, 1), slowest=slow,
                                                     load=round(os.getloadavg()[0], 1))) + '\n')
    return secs

def slowest(nb, n:int=3) -> str:
    "The `n` slowest cells of an executed notebook, from nbclient's timing metadata."
    from datetime import datetime
    t = lambda c, k: datetime.fromisoformat(c.metadata['execution'][k].replace('Z', '+00:00'))
    secs = [((t(c, 'shell.execute_reply') - t(c, 'iopub.execute_input')).total_seconds(), i)
            for i, c in enumerate(nb.cells) if 'shell.execute_reply' in c.metadata.get('execution', {})]
    return ', '.join(f"cell {i} {s:.0f} s" for s, i in sorted(secs, reverse=True)[:n])

def folders(root:Path) -> set:
    return {p for p in root.rglob('*') if p.is_dir() and '.git' not in p.relative_to(root).parts}

@pytest.mark.parametrize('name', NBS)
def test_run_all(project, name, monkeypatch):
    monkeypatch.setenv('PYTHONPATH', str(project))  # the kernel imports the copy's package and finds its assets
    dirs = folders(project)
    secs = run_all(project / 'nbs' / name, project / 'nbs', timeout=LIMIT_S * 5)  # a cell that hangs; the limit is asserted below
    status = git(project, 'status', '--porcelain', '--untracked-files=all', '--ignored=matching')
    status = '\n'.join(l for l in status.splitlines() if '__pycache__' not in l and '.pytest_cache' not in l)
    assert not status, f"{name}: Run All left files behind:\n{status}"
    new = sorted(str(d.relative_to(project)) for d in folders(project) - dirs if '__pycache__' not in d.parts)
    assert not new, f"{name}: Run All left folders behind: {new}"
    assert secs <= LIMIT_S, f"{name}: Run All took {secs:.0f} s (> {LIMIT_S} s)"
