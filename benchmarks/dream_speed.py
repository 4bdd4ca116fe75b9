"""Dream speed vs the real game, measured in one run: batched dream env-steps/s (Doom sizes: z=64, hidden 512)
at several batch sizes, and the real TakeCover agent loop (VizDoom step + preprocess + V encode + M step + a
linear controller on [z, c, h]) in steps/s; prints their ratio. The dream runs M's matrix products in float32 and in
bfloat16 (native on CPUs with AVX-512 BF16).

Usage: python benchmarks/dream_speed.py [--sizes 1 64 1024 4096] [--seconds 3] [--threads 1]
"""
import argparse, time
import numpy as np, torch
from world_models.envs import DOOM_ACTIONS, make_env, preprocess_doom, raw_frame
from world_models.dream import BatchedDream, load_z0
from world_models.mdnrnn import load_mdnrnn
from world_models.vae import load_vae, to_input
from world_models.plumbing import assets_dir

def dream_rate(m, z0, n, seconds, dtype=torch.float32):
    "Env-steps/s of a BatchedDream of `n` dreams (live dreams only), with a linear policy on [z, c, h]."
    d = BatchedDream(m, z0, n=n, tau=1.0, seed=0, max_steps=10**9, dtype=dtype); z = d.reset()
    W = torch.randn(64 + 2 * m.hidden_dim, 1) * 0.01; steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a = torch.tanh(torch.cat([z, d.c, d.h], 1) @ W)
        a = torch.where(a < -1 / 3, -1., torch.where(a > 1 / 3, 1., 0.))
        steps += int(d.alive.sum()); z, *_ = d.step(a)
        if not d.alive.any(): z = d.reset()
    return steps / (time.perf_counter() - t0)

@torch.no_grad()
def real_rate(vae, m, seconds):
    "Steps/s of the real agent loop on VizDoom TakeCover."
    env = make_env('doom'); obs, _ = env.reset(seed=0); st = None; steps, t0 = 0, time.perf_counter()
    W = torch.randn(64 + 2 * m.hidden_dim, 1) * 0.01; restart = 1.
    while time.perf_counter() - t0 < seconds:
        z = vae.encode(to_input(torch.from_numpy(preprocess_doom(raw_frame(obs)))[None]))[0]
        h, c = st if st is not None else (torch.zeros(1, m.hidden_dim), torch.zeros(1, m.hidden_dim))
        y = torch.tanh(torch.cat([z, c, h], 1) @ W).item()
        a = -1. if y < -1 / 3 else 1. if y > 1 / 3 else 0.
        _, st = m.step(z, torch.tensor([[a]]), torch.tensor([restart]), st); restart = 0.
        obs, r, term, trunc, _ = env.step(int(np.flatnonzero(DOOM_ACTIONS == a)[0])); steps += 1
        if term or trunc: obs, _ = env.reset(); st, restart = None, 1.
    env.close()
    return steps / (time.perf_counter() - t0)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--sizes', type=int, nargs='+', default=[1, 64, 1024, 4096])
    ap.add_argument('--seconds', type=float, default=3.); ap.add_argument('--threads', type=int, default=0)
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    m, z0 = load_mdnrnn(assets_dir() / 'mdnrnn_doom.safetensors'), load_z0(assets_dir() / 'z0_doom.npz')
    vae = load_vae(assets_dir() / 'vae_doom.safetensors')
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    real = real_rate(vae, m, a.seconds)
    print(f"real TakeCover agent loop : {real:9.0f} steps/s")
    for n in a.sizes:
        for dt in (torch.float32, torch.bfloat16):
            r = dream_rate(m, z0, n, a.seconds, dt)
            print(f"batched dream, N = {n:5d}, {str(dt)[6:]:8s}: {r:9.0f} steps/s  = {r / real:6.1f}x the real loop")
