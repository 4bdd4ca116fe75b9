"The house rules (issue 23): small modules, short lines, every public parameter documented, chapters in dependency order."
import ast, dataclasses, importlib, inspect, json, re
from pathlib import Path
import pytest
from fastcore.docments import docments

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / 'world_models'
MODULES = sorted(p.stem for p in PKG.glob('*.py') if p.stem not in ('_modidx', '__init__', '__main__'))
MAX_LINES, MAX_COLS = 400, 120
# modules exempt from these rules while being rewritten (none now)
PENDING = set()

def test_no_module_over_400_lines():
    big = {p.name: n for p in PKG.glob('*.py') if p.name != '_modidx.py'
           and (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not big, f"modules over {MAX_LINES} lines (split them): {big}"

def long_lines(path:Path) -> list:
    "Code lines over MAX_COLS characters, not counting the docstring and `__all__` that nbdev writes."
    text = path.read_text(); tree = ast.parse(text); skip = set()
    for n in tree.body:
        if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) or \
           isinstance(n, ast.Assign) and any(getattr(t, 'id', '') == '__all__' for t in n.targets):
            skip |= set(range(n.lineno, n.end_lineno + 1))
    return [f"{path.name}:{i}" for i, l in enumerate(text.splitlines(), 1) if len(l) > MAX_COLS and i not in skip]

def test_code_lines_fit_in_120_characters():
    bad = [x for m in MODULES if m not in PENDING for x in long_lines(PKG / f'{m}.py')]
    assert not bad, f"lines over {MAX_COLS} characters (edit the notebook, then nbdev-export): {bad}"

def public_callables(mod):
    "(name, function or dataclass) for everything in `mod.__all__` defined there, and their public methods."
    for name in getattr(mod, '__all__', []):
        obj = getattr(mod, name, None)
        if inspect.isfunction(obj) and obj.__module__ == mod.__name__: yield name, obj
        elif inspect.isclass(obj) and obj.__module__ == mod.__name__:
            if dataclasses.is_dataclass(obj): yield name, obj
            elif inspect.isfunction(vars(obj).get('__init__')): yield name, vars(obj)['__init__']
            for k, v in vars(obj).items():  # methods, @patch'ed ones included
                if (not k.startswith('_') or k == '__call__') and inspect.isfunction(v) and v.__qualname__.split('.')[0] == name \
                   and v.__module__ == mod.__name__:  # not what a library (e.g. Ray's actor wrapper) added
                    yield f"{name}.{k}", v

def var_keyword_documented(f, name:str) -> bool:
    "docments does not read the comment of `**kwargs`: look for it in the source."
    return bool(re.search(rf"\*\*{name}\b[^#\n]*#\s*\S", inspect.getsource(f)))

def undocumented(mod) -> list:
    "Public parameters of `mod` without their own docment, and public callables without a docstring."
    out = []
    for name, f in public_callables(mod):
        if not dataclasses.is_dataclass(f) and not inspect.getdoc(f): out.append(f"{name}: no docstring")
        try: docs = docments(f, full=True)
        except Exception as e: out.append(f"{name}: docments failed ({type(e).__name__}: {e})"); continue
        for p, info in docs.items():
            if p in ('self', 'return') or p.startswith('_') or info['docment']: continue  # _x: not public (e.g. Ray's _ray_trace_ctx)
            if info.get('kind') == inspect.Parameter.VAR_KEYWORD and var_keyword_documented(f, p): continue
            out.append(f"{name}({p})")
    return out

@pytest.mark.parametrize('name', [m for m in MODULES if m not in PENDING])
def test_every_public_parameter_is_documented(name):
    "One comment per parameter, fastcore style (a comment shared by several parameters on one line documents only the last)."
    gaps = undocumented(importlib.import_module(f'world_models.{name}'))
    assert not gaps, f"world_models.{name}: {gaps}"

def notebook_modules() -> dict:
    "{chapter notebook: the module it exports}, in reading order."
    out = {}
    for nb in sorted((ROOT / 'nbs').glob('[0-9][0-9]*_*.ipynb')):
        for c in json.loads(nb.read_text())['cells']:
            if m := re.match(r"#\|\s*default_exp\s+(\S+)", ''.join(c['source'])): out[nb.name] = m.group(1)
    return out

def imported_modules(nb:Path) -> set:
    "The `world_models.X` modules a notebook's code imports."
    code = '\n'.join(''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code')
    return set(re.findall(r"(?:from|import)\s+world_models\.(\w+)", code))

def forward_imports() -> set:
    "(chapter, module) pairs where a chapter imports a module exported by a later chapter."
    mods, seen, out = notebook_modules(), set(), set()
    for nb in sorted(p.name for p in (ROOT / 'nbs').glob('[0-9][0-9]*_*.ipynb')):  # every chapter, exporting or not
        if nb in mods: seen.add(mods[nb])
        if nb == '00_index.ipynb': continue  # the home page shows every chapter's results
        out |= {(nb, m) for m in imported_modules(ROOT / 'nbs' / nb) if m not in seen and m in mods.values()}
    return out

def test_chapters_import_only_earlier_chapters():
    "A reader meets every name before its use: a chapter imports only what earlier chapters (or itself) export."
    assert not forward_imports(), f"forward imports (move the code or the cell to a later chapter): {forward_imports()}"

def test_every_module_comes_from_a_chapter():
    assert sorted(set(notebook_modules().values()) | {'presets'}) == sorted(set(MODULES)), "a module without a chapter (or the reverse)"
