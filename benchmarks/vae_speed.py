"""V training throughput, measured in one run: the bare model's forward+backward+Adam step on a batch already in
memory (contiguous and channels-last layouts) against the full `train_vae` loop streaming frames from shards.

Usage: python benchmarks/vae_speed.py [--shards runs/doom-laptop/rollouts] [--steps 30] [--z 64]
Without --shards it collects a few Doom smoke rollouts into a temporary folder first.
"""
import argparse, csv, tempfile, time
from pathlib import Path
import torch
from world_models.data import collect_rollouts
from world_models.presets import collect_preset, vae_preset
from world_models.vae import ConvVAE, vae_step, train_vae

def bare(z, steps, batch, channels_last):
    "img/s of vae_step on one in-memory uint8 batch."
    torch.manual_seed(0); m = ConvVAE(z)
    if channels_last: m = m.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(m.parameters(), 1e-4); fr = torch.randint(0, 256, (batch, 64, 64, 3), dtype=torch.uint8)
    for _ in range(3): vae_step(m, opt, fr, 0.5)  # warm-up
    t = time.perf_counter()
    for _ in range(steps): vae_step(m, opt, fr, 0.5)
    return batch * steps / (time.perf_counter() - t)

def loop(shards, z, steps, batch):
    "img/s of train_vae over `steps` steps (after 3 warm-up steps), from its own metrics."
    with tempfile.TemporaryDirectory() as d:
        cfg = vae_preset('doom', 'laptop', z_dim=z, max_steps=steps + 3, batch_size=batch, ckpt_every=10**9)
        t = time.perf_counter(); train_vae(shards, d, cfg, progress=False); wall = time.perf_counter() - t
        rows = list(csv.DictReader(open(Path(d) / 'vae_metrics.csv')))[3:]
    return batch * len(rows) / sum(batch / float(r['items_s']) for r in rows), wall

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--shards', type=Path); ap.add_argument('--steps', type=int, default=30)
    ap.add_argument('--z', type=int, default=64); ap.add_argument('--batch', type=int, default=100)
    a = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    src = a.shards or collect_rollouts(collect_preset('doom', 'smoke', n_rollouts=8), tmp.name, progress=False) and Path(tmp.name)
    shards = sorted(Path(src).glob('rollout_*.npz'))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, z={a.z}, batch {a.batch}, {a.steps} steps")
    b0, b1 = bare(a.z, a.steps, a.batch, False), bare(a.z, a.steps, a.batch, True)
    l, wall = loop(shards, a.z, a.steps, a.batch)
    print(f"bare model, contiguous     : {b0:7.0f} img/s")
    print(f"bare model, channels-last  : {b1:7.0f} img/s  ({b1 / b0:.2f}x contiguous)")
    print(f"train_vae loop (from disk) : {l:7.0f} img/s  = {l / b1:.0%} of the bare channels-last model")
    print(f"  (loop wall-clock incl. start-up and checkpoints: {(a.steps + 3) * a.batch / wall:.0f} img/s)")
