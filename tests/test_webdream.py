"The dream pages: their JavaScript against the PyTorch modules (via Node), and the pages in headless Chromium."
import functools, http.server, json, os, shutil, subprocess, threading
from pathlib import Path
import numpy as np, pytest, torch
from world_models.controller import ACTION_MAPS, controller_input
from world_models.dream import load_z0
from world_models.evolve import load_controller
from world_models.mdnrnn import load_mdnrnn, sample_mdn
from world_models.vae import load_vae
from world_models.plumbing import assets_dir
from world_models.webdream import unpack_model
from world_models.dreampage import PAGES, dream_js, write_dream_page

ROOT = Path(__file__).resolve().parents[1]
PLAY = ROOT / 'nbs' / 'play'
ENVS = sorted(PAGES)
NODE = shutil.which('node') or shutil.which('nodejs')
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync']

def require(ok, why):
    "Skip with a reason when a tool is missing, unless WM_REQUIRE_BROWSER=1 (CI) makes it a failure."
    if ok: return
    if os.environ.get('WM_REQUIRE_BROWSER') == '1': pytest.fail(f"{why} (WM_REQUIRE_BROWSER=1)")
    pytest.skip(why)

@functools.cache
def parts(env):
    a = assets_dir()
    return (load_mdnrnn(a / f'mdnrnn_{env}.safetensors'), load_vae(a / f'vae_{env}.safetensors'),
            load_controller(a / f'controller_{env}.safetensors'), load_z0(a / f'z0_{env}.npz'))

@torch.no_grad()
def reference(env, tau=1.15, seed=0):
    "Fixed inputs, fixed draws, and what the PyTorch modules make of them."
    mdn, vae, ctrl, z0 = parts(env); Z, H = mdn.z_dim, mdn.hidden_dim
    g = torch.Generator().manual_seed(seed)
    z = torch.as_tensor(z0['mu'][:1]) + torch.randn(1, Z, generator=g)
    a = torch.tensor([[1.]]) if env == 'doom' else torch.tensor([[-0.5, 1., 0.2]])
    h, c = 0.5 * torch.randn(1, H, generator=g).tanh(), torch.randn(1, H, generator=g)  # a state in mid-episode
    p, (h2, c2) = mdn.step(z, a, torch.ones(1), (h, c))
    g.manual_seed(seed + 1); u, eps = torch.rand(p['log_pi'].shape, generator=g), torch.randn(1, Z, generator=g)
    z2 = sample_mdn(p['log_pi'], p['mu'], p['log_sigma'], tau, torch.Generator().manual_seed(seed + 1))  # same draws
    inp = dict(z=z[0].tolist(), a=a[0].tolist(), h=h[0].tolist(), c=c[0].tolist(), tau=tau, K=mdn.n_mix,
               u=u.flatten().tolist(), eps=eps.flatten().tolist(), log_pi=p['log_pi'].flatten().tolist(),
               mu=p['mu'].flatten().tolist(), log_sigma=p['log_sigma'].flatten().tolist())
    ref = dict(h=h2[0].numpy(), c=c2[0].numpy(), log_pi=p['log_pi'].flatten().numpy(), z=z2[0].numpy(),
               frame=vae.decode(z2)[0].permute(1, 2, 0).numpy(),
               action=ACTION_MAPS[env](ctrl(controller_input(z, h, c, ctrl.cfg.inputs)))[0].numpy(),
               done=p['done_logit'].item() if mdn.predict_done else None)
    return inp, ref

STEP_JS = """(WM, m, inp) => {  // one step of the page's code on the test's inputs
  const f = a => Float32Array.from(a), s = WM.mStep(m, f(inp.z), f(inp.a), 1, f(inp.h), f(inp.c));
  const p = WM.mixture(m, s.out);
  const z = WM.sampleMixture(p.logPi, p.mu, p.logSigma, inp.K, inp.tau, inp.u, inp.eps);
  const alone = WM.sampleMixture(f(inp.log_pi), f(inp.mu), f(inp.log_sigma), inp.K, inp.tau, inp.u, inp.eps);
  return {wasm: m.wasm, h: Array.from(s.h), c: Array.from(s.c), log_pi: Array.from(p.logPi), z: Array.from(z),
          alone: Array.from(alone), frame: Array.from(WM.decode(m, z)), done: s.out[m.O - 1],
          action: Array.from(WM.control(m, f(inp.z), f(inp.h), f(inp.c)))};
}"""

def check_step(got, ref, env):
    "The page's step against PyTorch's, within float32 rounding."
    for k, tol in (('h', 1e-5), ('c', 1e-5), ('log_pi', 1e-4), ('z', 1e-4), ('alone', 1e-5)):
        err = np.abs(np.array(got[k]) - ref['z' if k == 'alone' else k]).max()
        assert err < tol, f"{env}: {k} differs from PyTorch by {err:.2e} (tolerance {tol})"
    frame = np.array(got['frame']).reshape(64, 64, 4)
    assert np.abs(frame[..., :3] - ref['frame']).max() < 1e-5, f"{env}: decoded frame differs"
    np.testing.assert_allclose(got['action'], ref['action'], atol=1e-5)
    if ref['done'] is not None: assert abs(got['done'] - ref['done']) < 1e-4

@pytest.mark.parametrize('env', ENVS)
def test_committed_page_matches_the_shipped_weights(env, tmp_path):
    "nbs/play/ENV is what `write_dream_page` makes of assets/ (regenerate with `world-models dream-page --env ENV`)."
    new = write_dream_page(env, tmp_path / env)
    for name in ('index.html', 'dream.js'):
        assert (PLAY / env / name).read_text() == (new / name).read_text(), f"nbs/play/{env}/{name} is stale"
    (h0, t0), (h1, t1) = (unpack_model((d / 'model.bin').read_bytes()) for d in (PLAY / env, new))
    assert h0 == h1, f"nbs/play/{env}/model.bin: header is stale"
    for k in t1: np.testing.assert_allclose(t0[k], t1[k], rtol=1e-6, atol=1e-7, err_msg=f"{env}: {k} is stale")
    assert sum(f.stat().st_size for f in (PLAY / env).iterdir()) < 15e6  # the page's budget

@pytest.mark.parametrize('env', ENVS)
def test_javascript_step_matches_pytorch_in_node(env, tmp_path):
    "M's step, the mixture, sampling at tau with the same draws, the decoder and C: WebAssembly and plain JS kernels."
    if not NODE: pytest.skip("Node.js not found (apt-get install -y nodejs); the Chromium test below checks the same")
    inp, ref = reference(env)
    (tmp_path / 'dream.js').write_text(dream_js()); (tmp_path / 'in.json').write_text(json.dumps(inp))
    script = (f"const WM = require('./dream.js'), fs = require('fs');\n"
              f"const b = fs.readFileSync('{PLAY / env / 'model.bin'}');\n"
              f"const inp = JSON.parse(fs.readFileSync('in.json')), step = {STEP_JS};\n"
              "console.log(JSON.stringify([true, false].map(w => step(WM, WM.load(b.buffer.slice(b.byteOffset, "
              "b.byteOffset + b.length), w), inp))));")
    (tmp_path / 'run.js').write_text(script)
    out = subprocess.run([NODE, 'run.js'], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    simd, plain = json.loads(out.stdout)
    assert simd['wasm'] and not plain['wasm']  # both kernels ran
    check_step(simd, ref, env); check_step(plain, ref, env)

# --- the pages in headless Chromium, served from 127.0.0.1, every other request refused

@pytest.fixture(scope='module')
def server():
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(PLAY)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/"
    srv.shutdown()

@pytest.fixture(scope='module')
def browser():
    require(CHROMIUM, "headless Chromium not found: the dream-page tests need it (apt-get install -y chromium)")
    try: from playwright.sync_api import sync_playwright
    except ImportError: require(False, "playwright not installed: pip install -e '.[dev]'")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()

def open_dream(browser, server, env):
    "The page, loaded and paused; its errors and any request that tried to leave 127.0.0.1."
    page, errors, outside = browser.new_page(), [], []
    page.on('console', lambda m: errors.append(m.text) if m.type == 'error' else None)
    page.on('pageerror', lambda e: errors.append(str(e)))
    def route(r):
        if r.request.url.startswith(server): return r.continue_()
        outside.append(r.request.url); r.abort()
    page.route('**/*', route)
    page.goto(server + f'{env}/index.html')
    assert page.evaluate('wmPage.ready') is True  # the WebAssembly kernel is in use
    page.click('#pause'); page.click('#screen')  # the tests step it themselves; focus off the inputs
    return page, errors, outside

def restart_at(page, seed):
    "Restart the dream with `seed` (as typing it in the seed box does)."
    page.evaluate("s => { const e = document.getElementById('seed'); e.value = s; "
                  "e.dispatchEvent(new Event('change')); }", seed)

def pixels(page):
    js = "Array.from(document.getElementById('screen').getContext('2d').getImageData(0, 0, 64, 64).data)"
    return np.array(page.evaluate(js), np.uint8).reshape(64, 64, 4)[..., :3]

def ticks(page, n, key=None):
    "Step the paused dream n times, holding `key` (a real key press) if given; the frame after the last step."
    if key: page.keyboard.down(key)
    for _ in range(n): page.evaluate('wmPage.tick()')
    if key: page.keyboard.up(key)
    return pixels(page)

@pytest.mark.parametrize('env', ENVS)
def test_page_loads_offline_and_plays(browser, server, env):
    page, errors, outside = open_dream(browser, server, env)
    page.click('#pause'); page.wait_for_timeout(1500)  # unpaused: the loop steps and draws by itself
    status = page.locator('#status').text_content()
    assert status.startswith('step ') and int(status.split()[1]) > 3, status
    assert pixels(page).std() > 0  # a picture, not a blank canvas
    assert not errors and not outside, (errors, outside)

@pytest.mark.parametrize('env,key', [('doom', 'ArrowLeft'), ('carracing', 'ArrowUp')])
def test_key_press_changes_the_next_frames(browser, server, env, key):
    page, errors, _ = open_dream(browser, server, env)
    restart_at(page, 7); still = ticks(page, 12)
    restart_at(page, 7); again = ticks(page, 12)
    restart_at(page, 7); moved = ticks(page, 12, key)
    assert (still == again).all()  # the same seed and no key: the same dream, so any change below is the key's
    assert (moved != still).any(), "holding the key did not change the dream"
    assert not errors

def test_autopilot_outlives_a_held_key_in_doom(browser, server):
    page, errors, _ = open_dream(browser, server, 'doom')
    restart_at(page, 3); page.click('#auto'); auto = page.evaluate('wmPage.run(2100)')
    restart_at(page, 3); page.click('#auto'); page.keyboard.down('ArrowLeft'); held = page.evaluate('wmPage.run(2100)')
    page.keyboard.up('ArrowLeft')
    assert 'killed' in page.locator('#over').text_content()  # the held key died, and the page says so
    assert auto > held, f"autopilot survived {auto} steps, holding left {held}"
    assert not errors

def test_temperature_controls_how_far_dreams_from_one_start_differ(browser, server):
    page, errors, _ = open_dream(browser, server, 'doom')
    def spread(tau):
        page.locator('#tau').fill(str(tau)); page.uncheck('#same'); restart_at(page, 20); page.check('#same')
        frames = [ticks(page, 30)]
        for _ in range(3):  # new seed, same start
            page.click('#restart'); page.click('#screen'); frames.append(ticks(page, 30))
        return np.mean([np.abs(a.astype(int) - b).mean() for a, b in zip(frames, frames[1:])])
    cold, hot = spread(0.1), spread(1.5)
    assert cold < 1.0, f"tau 0.1: dreams from one start differ by {cold:.2f} grey levels"
    assert hot > 2 * cold, f"tau 1.5 ({hot:.2f}) should spread dreams more than tau 0.1 ({cold:.2f})"
    assert not errors

@pytest.mark.parametrize('env', ENVS)
def test_page_sampling_and_step_match_python(browser, server, env):
    "Inside Chromium, on the page's own model: sampling with PyTorch's draws gives sample_mdn's z, and M, V, C agree."
    page, errors, _ = open_dream(browser, server, env)
    inp, ref = reference(env, tau=0.7, seed=5)
    got = page.evaluate(f"inp => ({STEP_JS})(WM, wmPage.model, inp)", inp)
    check_step(got, ref, env)
    page.evaluate("wmPage.model.k = WM.kernelJS(new Float32Array(wmPage.model.t.x.buffer))")  # the fallback loops
    check_step(page.evaluate(f"inp => ({STEP_JS})(WM, wmPage.model, inp)", inp), ref, env)
    assert not errors

def test_cli_writes_a_page(tmp_path, capsys):
    from world_models.cli import main
    assert main(['dream-page', '--env', 'carracing', '--out', str(tmp_path / 'car')]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res['command'] == 'dream-page' and res['bytes'] == sum(f.stat().st_size for f in (tmp_path / 'car').iterdir())
    assert main(['dream-page', '--env', 'doom', '--out', str(tmp_path / 'x'), '--assets', str(tmp_path)]) == 2  # no weights
    assert 'mdnrnn_doom.safetensors' in capsys.readouterr().err
