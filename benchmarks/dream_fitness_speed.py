"""How a batch of dreams is stepped, measured in one run on one thread: the dreams of 32 Doom controllers (the shipped
C plus N(0, 0.03) noise, so dreams last about as long as late in a run) x 8 dreams each (a `laptop` generation's share
per world), at tau 1.15 in the shipped M, played three ways:

  old:      4 candidates a batch (32 dreams), dead dreams stepped (masked) to the end of the longest;
  batched:  16 candidates a batch (128 dreams, `DREAM_BATCH`), dead dreams stepped;
  today:    16 candidates a batch, dead dreams dropped once half the batch has died (`dream_rollouts`' default).

The dreams differ between ways (other batches draw other noise), so speed is live dream-steps per second.
Usage: python benchmarks/dream_fitness_speed.py [--json FILE]
"""
import argparse, json, time
import numpy as np, torch
from world_models.agent import agent_parts
from world_models.dream import load_z0
from world_models.evolve import load_controller
from world_models.fitness import DREAM_BATCH, dream_rollouts
from world_models.mdnrnn import load_mdnrnn
from world_models.plumbing import assets_dir

def play(m, z0, X, per_batch, compact):
    "Live dream-steps/s and mean survival of X's dreams (8 each), `per_batch` candidates a batch."
    t, steps = time.perf_counter(), []
    for i in range(0, len(X), per_batch):
        steps.append(dream_rollouts(m, z0, X[i:i + per_batch], 8, 1.15, seed=i, compact=compact)[0])
    s = torch.cat(steps); dt = time.perf_counter() - t
    return dict(seconds=round(dt, 1), dream_steps=int(s.sum()), mean=round(float(s.mean()), 1),
                steps_per_s=round(float(s.sum()) / dt))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0]); ap.add_argument('--json')
    a = ap.parse_args(); torch.set_num_threads(1)
    p = agent_parts(assets_dir(), 'doom'); m, z0 = load_mdnrnn(p['mdnrnn']), load_z0(p['z0'])
    x = load_controller(p['controller']).get_flat(); X = x + np.random.default_rng(0).normal(0, 0.03, (32, x.size))
    rows = {'old': play(m, z0, X, 4, False), 'batched': play(m, z0, X, DREAM_BATCH // 8, False),
            'today': play(m, z0, X, DREAM_BATCH // 8, True)}
    base = rows['old']['steps_per_s']
    for k, r in rows.items():
        r['x_old'] = round(r['steps_per_s'] / base, 2)
        print(f"{k:8s}: {r['steps_per_s']:6,} dream-steps/s = {r['x_old']:.2f}x  ({r['seconds']} s, mean survival "
              f"{r['mean']} steps)")
    if a.json: open(a.json, 'w').write(json.dumps(rows, indent=1))
