"Checks of the project's own rules: README commands, CI, notebooks in sync with the package, docs sidebar."
import json, re, shutil, subprocess, sys
from pathlib import Path
import pytest
try: import tomllib  # Python >= 3.11
except ModuleNotFoundError: import tomli as tomllib  # Python 3.10: the dev extra installs tomli

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p.name for p in (ROOT / 'nbs').glob('[0-9][0-9]*_*.ipynb'))

def shell_blocks(text): return re.findall(r"```sh\n(.*?)```", text, re.S)

def test_readme_has_exactly_two_commands_and_ci_runs_the_second():
    blocks = shell_blocks((ROOT / 'README.md').read_text())
    assert len(blocks) == 2 and all(len(b.strip().splitlines()) == 1 for b in blocks)
    main_job, tests = (b.strip() for b in blocks)
    assert 'pip install -e .' in main_job and 'world-models ' in main_job
    ci = (ROOT / '.ci' / 'run').read_text()
    test_cmd = re.search(r"^TEST_CMD='([^']*)'", ci, re.M).group(1)
    assert tests.endswith(test_cmd) and 'nbdev-test' in test_cmd and 'pytest' in test_cmd

def test_no_settings_ini_and_nbdev_config():
    assert not (ROOT / 'settings.ini').exists()
    cfg = tomllib.loads((ROOT / 'pyproject.toml').read_text())
    assert cfg['tool']['nbdev']['lib_path'] == 'world_models' and cfg['tool']['nbdev']['nbs_path'] == 'nbs'
    assert cfg['project']['scripts']['world-models'] == 'world_models.cli:main'

def test_sidebar_lists_every_chapter_in_order():
    side = (ROOT / 'nbs' / 'sidebar.yml').read_text()
    listed = re.findall(r"-\s+(\S+\.ipynb)", side)
    assert [x for x in listed if x[:2].isdigit()] == NBS  # chapters in reading order
    assert sorted(listed) == sorted(p.name for p in (ROOT / 'nbs').glob('*.ipynb'))  # and every other page, once

def test_chapters_open_with_title_summary_and_default_exp():
    for nb in NBS:
        cells = json.loads((ROOT / 'nbs' / nb).read_text())['cells']
        head = ''.join(cells[0]['source'])
        assert head.startswith('# ') and '\n> ' in head, nb
        if nb != '00_index.ipynb': assert ''.join(cells[1]['source']).startswith('#| default_exp '), nb
        assert (ROOT / 'nbs' / nb).stat().st_size < 1_500_000, nb

def test_export_leaves_the_package_unchanged(tmp_path):
    "nbdev-export on a copy of the project writes exactly the committed modules."
    for name in ('pyproject.toml', 'README.md'): shutil.copy(ROOT / name, tmp_path / name)
    for d in ('nbs', 'world_models'): shutil.copytree(ROOT / d, tmp_path / d, ignore=shutil.ignore_patterns('_vizdoom*', '__pycache__', 'assets'))
    exe = Path(sys.executable).parent / 'nbdev-export'
    subprocess.run([str(exe)], cwd=tmp_path, check=True, capture_output=True)
    for p in (ROOT / 'world_models').glob('*.py'):
        assert (tmp_path / 'world_models' / p.name).read_text() == p.read_text(), f"{p.name} differs from its notebook"
    assert sorted(q.name for q in (tmp_path / 'world_models').glob('*.py')) == sorted(q.name for q in (ROOT / 'world_models').glob('*.py'))
    assert (tmp_path / 'pyproject.toml').read_text() == (ROOT / 'pyproject.toml').read_text()

def test_links_between_pages_work_in_jupyterlab_and_on_the_site():
    "Relative links name files that exist: notebooks as .ipynb (Quarto turns them into .html links on the site)."
    for nb in sorted((ROOT / 'nbs').glob('*.ipynb')):
        cells = json.loads(nb.read_text())['cells']
        texts = [''.join(c['source']) for c in cells if c['cell_type'] == 'markdown']
        texts += [''.join(o['data']['text/markdown']) for c in cells for o in c.get('outputs', [])
                  if 'text/markdown' in o.get('data', {})]
        for link in (l for t in texts for l in re.findall(r"\]\(([^)\s]+)", t)):
            if re.match(r"[a-z]+:|#", link): continue  # web addresses and anchors in the same page
            target = link.split('#')[0]
            assert not target.endswith('.html'), f"{nb.name}: ({link}) is a dead link in JupyterLab; link the .ipynb"
            assert (nb.parent / target).exists(), f"{nb.name}: ({link}) names no file"

MACHINE_PATH = re.compile(r"(/work/|/home/|/root/|/tmp/|/usr/|/opt/|site-packages|[A-Z]:\\\\Users)")

@pytest.mark.parametrize('nb', sorted((ROOT / 'nbs').glob('*.ipynb')), ids=lambda p: p.name)
def test_saved_outputs_show_no_machine_paths_or_warnings(nb):
    "Committed outputs are what a reader sees on the site: no path of the machine that ran them, no warning box."
    for i, c in enumerate(json.loads(nb.read_text())['cells']):
        for o in c.get('outputs', []):
            text = ''.join(o.get('text', '')) + ''.join(''.join(v) for k, v in o.get('data', {}).items() if k.startswith('text/'))
            assert o.get('output_type') != 'error', f"{nb.name}, cell {i}: a saved error"
            m = MACHINE_PATH.search(text)
            assert not m, f"{nb.name}, cell {i}: a machine path in the output: ...{text[max(0, m.start() - 40):m.end() + 40]}..."
            assert not (o.get('name') == 'stderr' and re.search(r'warn', text, re.I)), f"{nb.name}, cell {i}: a warning box"
