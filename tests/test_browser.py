"Static widgets in headless Chromium: the docs pages have no kernel, so their players must work by themselves."
import json, os, re, shutil
from pathlib import Path
import numpy as np, pytest, torch
from world_models.vae import ConvVAE
from world_models.widgets import frames_html, latent_traversal_html

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync']

@pytest.fixture(scope='module')
def browser():
    if not CHROMIUM:
        why = "no Chromium found: the static-widget tests need headless Chromium (apt-get install -y chromium)"
        if os.environ.get('WM_REQUIRE_BROWSER') == '1': pytest.fail(f"{why}; WM_REQUIRE_BROWSER=1 (.ci/run) requires it")
        pytest.skip(f"{why}; set WM_REQUIRE_BROWSER=1 to make this an error, as .ci/run does")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()

def open_page(browser, tmp_path, body):
    f = tmp_path / 'page.html'
    f.write_text(f"<!doctype html><html><body>{body}</body></html>")
    page = browser.new_page(); errors = []
    page.on('pageerror', lambda e: errors.append(str(e)))
    page.route('**/*', lambda r: r.continue_() if r.request.url.startswith(('file:', 'data:')) else r.abort())  # offline
    page.goto(f.as_uri())
    return page, errors

def test_latent_traversal_slider_changes_the_image(browser, tmp_path):
    torch.manual_seed(0); vae = ConvVAE(32)
    frame = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    page, errors = open_page(browser, tmp_path, latent_traversal_html(vae, frame, dims=[0, 1], title='traversal'))
    img, sel, rng = page.locator('img'), page.locator('select'), page.locator('input[type=range]')
    assert page.locator('.wm-label').text_content() == '+0.0'
    sel.select_option('z[0]'); mid = img.get_attribute('src')
    rng.fill('0'); low = img.get_attribute('src')
    rng.fill('10'); high = img.get_attribute('src')
    assert page.locator('.wm-label').text_content() == '+2.5'
    assert len({mid, low, high}) == 3 and all(s.startswith('data:image/jpeg') for s in (mid, low, high))
    assert not errors

def test_play_button_advances_frames(browser, tmp_path):
    frames = [np.full((16, 16, 3), v, np.uint8) for v in range(0, 250, 25)]
    page, errors = open_page(browser, tmp_path, frames_html({'ramp': frames}, play=True, fps=20, start=0))
    first = page.locator('img').get_attribute('src')
    page.locator('button').click(); page.wait_for_timeout(400)
    assert page.locator('input[type=range]').input_value() != '0'
    assert page.locator('img').get_attribute('src') != first
    assert page.locator('button').text_content() == 'pause' and not errors

def test_static_players_show_a_frame_without_script(browser, tmp_path):
    "Before (or without) its script, a player shows its first frame, and a traversal opens on a latent dimension."
    torch.manual_seed(0); frame = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    f = tmp_path / 'page.html'
    f.write_text(f"<!doctype html><html><body>{latent_traversal_html(ConvVAE(32), frame, dims=[5, 1])}</body></html>")
    page = browser.new_context(java_script_enabled=False).new_page(); page.goto(f.as_uri())
    assert page.locator('img').evaluate('e => e.complete && e.naturalWidth') == 64
    assert page.locator('select').input_value() == 'z[5]' and page.locator('.wm-label').text_content() == '+0.0'

def saved_players(nb):
    "HTML outputs with a static player in a notebook's saved outputs."
    cells = json.loads(nb.read_text())['cells']
    return [''.join(o['data']['text/html']) for c in cells for o in c.get('outputs', [])
            if 'text/html' in o.get('data', {}) and 'wm-player' in ''.join(o['data']['text/html'])]

@pytest.mark.parametrize('nb', sorted((ROOT / 'nbs').glob('*.ipynb')), ids=lambda p: p.name)
def test_saved_players_in_chapters_work(browser, tmp_path, nb):
    players = saved_players(nb)
    if not players: pytest.skip(f"{nb.name} has no static player")
    for body in players:
        page, errors = open_page(browser, tmp_path, body)
        widgets = page.locator('.wm-player')
        assert widgets.count() >= 1
        for i in range(widgets.count()):  # an output may hold several players
            w = widgets.nth(i); rng, img, sel = w.locator('input[type=range]'), w.locator('img'), w.locator('select')
            labels = sel.locator('option').all_text_contents()
            moving = [k for k, t in enumerate(labels) if t.strip() != 'original']  # a traversal's 'original' is a still
            if len(labels) > 1: sel.select_option(index=moving[0])
            srcs = set()
            for v in ('0', rng.get_attribute('max')):
                rng.fill(v); srcs.add(img.get_attribute('src'))
            assert len(srcs) == 2, f"{nb.name}, player {i}: moving the slider did not change the image"
        assert not errors, errors

def test_static_dream_player_plays(browser, tmp_path):
    from world_models.mdnrnn import MDNRNN
    from world_models.widgets import dream_player_html
    torch.manual_seed(0); m, vae = MDNRNN(32, 3, 32), ConvVAE(32)
    z0 = {'mu': np.zeros((2, 32), np.float32), 'logvar': np.zeros((2, 32), np.float32)}
    page, errors = open_page(browser, tmp_path, dream_player_html(m, vae, z0, taus=(0.5, 1.3), steps=20, every=1))
    img, rng = page.locator('img'), page.locator('input[type=range]')
    assert rng.input_value() == '0' and page.locator('.wm-label').text_content() == 'step 0'
    first = img.get_attribute('src')
    page.locator('button').click(); page.wait_for_timeout(600)
    assert int(rng.input_value()) > 0 and img.get_attribute('src') != first
    page.locator('button').click(); page.locator('select').select_option('τ = 1.3')
    assert page.locator('.wm-label').text_content().startswith('step') and not errors
