"The package as a user gets it: a wheel, installed non-editable, carries the shipped agents and plays one."
import json, os, shutil, subprocess, sys, sysconfig
from pathlib import Path
import pytest
from world_models.pipeline import evaluation_spec

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.name for p in (ROOT / 'assets').iterdir())

def copy_project(dst:Path) -> Path:
    "The tracked (and new, not ignored) files of the project, links kept as links."
    out = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    for f in filter(None, out.split('\0')):
        src, to = ROOT / f, dst / f
        if not (src.is_symlink() or src.is_file()): continue
        to.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink(): to.symlink_to(os.readlink(src))
        else: shutil.copy2(src, to)
    return dst

def test_assets_are_package_data():
    from world_models.plumbing import assets_dir
    assert assets_dir().parent.name == 'world_models' and sorted(p.name for p in assets_dir().iterdir()) == SHIPPED

def test_missing_agent_message(tmp_path, monkeypatch):
    "An empty run folder asks for training; an install without its weights asks for a reinstall."
    with pytest.raises(FileNotFoundError, match='train-controller'): evaluation_spec(tmp_path, 'doom')
    monkeypatch.setattr('world_models.pipeline.assets_dir', lambda: tmp_path)
    with pytest.raises(FileNotFoundError, match='installed without its shipped weights: reinstall'):
        evaluation_spec(tmp_path, 'doom')

def test_wheel_installs_with_the_shipped_agents_and_plays(tmp_path):
    src = copy_project(tmp_path / 'src')
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV')}
    env.update(XDG_CACHE_HOME=str(tmp_path / 'cache'), PIP_DISABLE_PIP_VERSION_CHECK='1')
    run = lambda *cmd, cwd=tmp_path: subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True, text=True)
    run(sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-w', str(tmp_path / 'dist'), str(src))
    wheel, = (tmp_path / 'dist').glob('world_models-*.whl')
    venv = tmp_path / 'venv'; run(sys.executable, '-m', 'venv', str(venv))
    bin_ = venv / 'bin'
    site = run(str(bin_ / 'python'), '-c', 'import sysconfig; print(sysconfig.get_path("purelib"))').stdout.strip()
    # the dependencies (torch, vizdoom, ...) come from this environment's site-packages, as a plain path: its .pth
    # files, and with them the editable install of world_models, are not read, so only the wheel can be imported
    Path(site, 'deps.pth').write_text(sysconfig.get_path('purelib') + '\n')
    run(str(bin_ / 'python'), '-m', 'pip', 'install', '--no-deps', '--no-index', str(wheel))
    shutil.rmtree(src)  # nothing may point back at the source tree
    where = run(str(bin_ / 'python'), '-c', 'import world_models.vae as v; print(v.__file__); print(v.assets_dir())')
    mod, assets = where.stdout.split()
    assert mod.startswith(str(venv)) and assets.startswith(str(venv)), where.stdout
    assert sorted(p.name for p in Path(assets).iterdir()) == SHIPPED
    assert not Path(assets).is_symlink()  # the wheel holds the files themselves
    out = run(str(bin_ / 'world-models'), 'evaluate', 'doom', '--episodes', '2', '--workers', '1')
    res = json.loads(out.stdout[out.stdout.index('{'):])
    assert res['episodes'] == 2 and res['mean'] > 0 and res['agent'].startswith(str(venv)), out.stdout
