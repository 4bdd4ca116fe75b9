"""Ray's cost on one machine, and what a cluster would buy: measured in one run.

Scores the same CMA-ES generation of Doom controllers in the real game with the local process pool
and with Ray (both with --workers processes on this machine), checks that both give the same
fitnesses, measures one full CarRacing rollout (1,000 steps of V + M + C), and projects the paper's
CarRacing run (1,800 generations of 64 x 16 rollouts) to N CPUs.

    python benchmarks/backend_speed.py [--popsize 16] [--rollouts 2] [--workers 2]
"""
import argparse, math, time
import numpy as np
from world_models.agent import AgentSpec, agent_parts
from world_models.backends import make_backend
from world_models.fitness import RealFitness
from world_models.cmaes import make_es
from world_models.controller import CONTROLLERS
from world_models.plumbing import assets_dir

def shipped_spec(env:str) -> AgentSpec:
    "V, M and z0 shipped in assets/ for `env`."
    p = agent_parts(assets_dir(), env)
    return AgentSpec(env, p['vae'], p['mdnrnn'], p['z0'])

def timed_generations(name:str, spec:AgentSpec, X:np.ndarray, rollouts:int, workers:int) -> dict:
    "Wall-clock of a first (cold: workers start, models load) and a second (warm) generation on one backend."
    be = make_backend(name, workers)
    try:
        t0 = time.perf_counter(); s1 = RealFitness(spec, be).scores(X, rollouts, seed=0); cold = time.perf_counter() - t0
        t0 = time.perf_counter(); s2 = RealFitness(spec, be).scores(X, rollouts, seed=1); warm = time.perf_counter() - t0
    finally: be.close()
    return dict(cold=cold, warm=warm, scores=np.concatenate([s1, s2]), steps=float(s2.sum()))

def car_rollout_seconds(workers:int, episodes:int=4) -> float:
    "CPU-seconds of one full 1,000-step CarRacing rollout of V + M + C (random controllers, shipped V and M)."
    X = np.random.default_rng(0).normal(0, 0.1, (episodes, CONTROLLERS['carracing'].in_dim * 3 + 3))
    be = make_backend('local', workers)
    try:
        RealFitness(shipped_spec('carracing'), be, max_steps=20).scores(X[:workers], 1, seed=0)  # start workers, load models
        t0 = time.perf_counter(); RealFitness(shipped_spec('carracing'), be).scores(X, 1, seed=0); wall = time.perf_counter() - t0
    finally: be.close()
    return wall * workers / episodes

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--popsize', type=int, default=16); ap.add_argument('--rollouts', type=int, default=2)
    ap.add_argument('--workers', type=int, default=2)
    a = ap.parse_args()
    X = make_es('course', np.zeros(CONTROLLERS['doom'].in_dim), 0.1, a.popsize, seed=0).ask()
    res = {name: timed_generations(name, shipped_spec('doom'), X, a.rollouts, a.workers) for name in ('local', 'ray')}
    assert np.array_equal(res['local']['scores'], res['ray']['scores']), 'ray and local gave different fitnesses'
    print(f"Doom, real game: one generation of {a.popsize} controllers x {a.rollouts} episodes, {a.workers} workers (same fitnesses: yes)")
    print('| backend | first generation (s) | next generation (s) | agent steps/s |\n|---|---|---|---|')
    for name, r in res.items(): print(f"| {name} | {r['cold']:.1f} | {r['warm']:.1f} | {r['steps'] / r['warm']:.0f} |")
    ratio = res['ray']['warm'] / res['local']['warm']
    print(f"ray / local wall-clock (next generation): {ratio:.2f}x\n")
    t = car_rollout_seconds(a.workers)
    print(f"CarRacing: one full rollout (1,000 steps, V + M + C) costs {t:.1f} CPU-s here")
    print("Paper scale (1,800 generations x 64 members x 16 rollouts), projected with Ray's measured overhead:")
    print('| CPUs | generation | 1,800 generations |\n|---|---|---|')
    for n in (2, 16, 64, 256, 1024):
        gen = math.ceil(1024 / n) * t * ratio
        print(f"| {n} | {gen / 60:.1f} min | {1800 * gen / 86400:.1f} days |")
