"""Collection speed of `collect_rollouts` for both games with 1 and 2 workers, measured in one run.

Prints episodes/min and env-steps/s (including process start-up) and the 2-worker ÷ 1-worker speed-up.
Usage: python benchmarks/collect_speed.py [--doom-episodes 60] [--car-episodes 8] [--car-steps 400]
"""
import argparse, json, tempfile
from pathlib import Path
from world_models.data import collect_rollouts
from world_models.presets import collect_preset

def measure(cfg, workers):
    "Collect `cfg` into a fresh folder with `workers` processes; return the run's speed figures."
    with tempfile.TemporaryDirectory() as d:
        run = collect_rollouts(cfg, Path(d), seed=0, workers=workers, progress=False)['last_run']
    return {k: run[k] for k in ('new_episodes', 'new_steps', 'seconds', 'episodes_per_min', 'steps_per_s')}

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--doom-episodes', type=int, default=60)
    ap.add_argument('--car-episodes', type=int, default=8)
    ap.add_argument('--car-steps', type=int, default=400)
    a = ap.parse_args()
    cfgs = {'doom': collect_preset('doom', 'laptop', n_rollouts=a.doom_episodes),
            'carracing': collect_preset('carracing', 'laptop', n_rollouts=a.car_episodes, max_steps=a.car_steps)}
    rows = []
    print(f"{'env':10} {'workers':>7} {'episodes':>8} {'steps':>7} {'seconds':>8} {'episodes/min':>12} {'steps/s':>8}")
    for env, cfg in cfgs.items():
        res = {w: measure(cfg, w) for w in (1, 2)}
        for w, r in res.items():
            print(f"{env:10} {w:>7} {r['new_episodes']:>8} {r['new_steps']:>7} {r['seconds']:>8.1f} {r['episodes_per_min']:>12.1f} {r['steps_per_s']:>8.0f}")
        print(f"{env:10} speed-up 2 workers / 1 worker (steps/s): {res[2]['steps_per_s'] / res[1]['steps_per_s']:.2f}x")
        rows.append(dict(env=env, **{f"workers_{w}": r for w, r in res.items()}))
    print(json.dumps(rows))
