"""Speed and size of the dream pages (nbs/play/ENV) in headless Chromium: dream steps per second including V's
decode and the canvas draw (`wmPage.bench`: M step, sampling, decode, putImageData), with the WebAssembly SIMD kernel
and with the plain-JavaScript fallback, plus each page's size on disk. Served from 127.0.0.1, nothing else reachable.

Usage: python benchmarks/dream_page_speed.py [--steps 300] [--repeats 3] [--screenshots DIR]
"""
import argparse, functools, http.server, json, shutil, threading
from pathlib import Path
from playwright.sync_api import sync_playwright

PLAY = Path(__file__).resolve().parents[1] / 'nbs' / 'play'
FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync']

def serve(folder):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}/"

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=300); ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--screenshots', type=Path, default=None, help='save a screenshot of each page here')
    args = ap.parse_args()
    srv, url = serve(PLAY)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=shutil.which('chromium'), args=FLAGS, headless=True)
        for env in ('doom', 'carracing'):
            page = b.new_page(); page.route('**/*', lambda r: r.continue_() if r.request.url.startswith(url) else r.abort())
            page.goto(url + f'{env}/index.html'); page.evaluate('wmPage.ready'); page.click('#pause')
            page.evaluate(f'wmPage.bench(30)')  # warm up the JIT
            simd = [page.evaluate(f'wmPage.bench({args.steps})') for _ in range(args.repeats)]
            page.evaluate("wmPage.model.k = WM.kernelJS(new Float32Array(wmPage.model.t.x.buffer))")  # plain JS loops
            plain = [page.evaluate(f'wmPage.bench({max(20, args.steps // 10)})') for _ in range(args.repeats)]
            size = {f.name: f.stat().st_size for f in (PLAY / env).iterdir()}
            print(json.dumps(dict(env=env, wasm_fps=[round(x, 1) for x in simd], js_fps=[round(x, 1) for x in plain],
                                  bytes=size, total_mb=round(sum(size.values()) / 1e6, 2))))
            if args.screenshots:
                args.screenshots.mkdir(parents=True, exist_ok=True)
                page.evaluate('wmPage.restart()'); page.click('#auto'); page.evaluate('wmPage.run(150)')
                page.screenshot(path=str(args.screenshots / f'{env}.png'), clip=dict(x=0, y=0, width=680, height=340))
        b.close()
    srv.shutdown()

if __name__ == '__main__': main()
