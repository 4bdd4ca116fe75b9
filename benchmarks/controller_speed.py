"""Controller training costs, measured in one run: CMA-ES generations to f < 1e-8 (course vs pycma) on the
30-d ellipsoid and 10-d Rosenbrock, CMA-ES overhead per generation at Doom's size (n = 1,088, population 64),
and the speed-up of real-game evaluation with 2 worker processes over 1 (VizDoom TakeCover, the shipped V and M).

Usage: python benchmarks/controller_speed.py [--seeds 3] [--episodes 8] [--skip-real]
"""
import argparse, time
import numpy as np
from world_models.cmaes import CMAES, PycmaES, ellipsoid, minimize, rosenbrock

def generations_table(seeds):
    "Generations to 1e-8 for each implementation and problem."
    print(f"{'problem':18s} {'course':>24s} {'pycma':>24s}  ratio of medians")
    for name, f, n in [('ellipsoid 30-d', ellipsoid, 30), ('Rosenbrock 10-d', rosenbrock, 10)]:
        g = {k: [len(minimize(cls(np.full(n, 0.5), 0.3, 16, seed=s), f)) for s in range(seeds)] for k, cls in (('course', CMAES), ('pycma', PycmaES))}
        print(f"{name:18s} {str(g['course']):>24s} {str(g['pycma']):>24s}  {np.median(g['course']) / np.median(g['pycma']):.2f}")

def overhead(cls, gens):
    "Milliseconds per ask + tell at n = 1,088, population 64 (random costs)."
    es, rng = cls(np.zeros(1088), 0.1, 64, seed=0), np.random.default_rng(0)
    X = es.ask(); es.tell(X, rng.random(64)); t = time.perf_counter()
    for _ in range(gens): X = es.ask(); es.tell(X, rng.random(64))
    return (time.perf_counter() - t) / gens * 1e3

def real_speedup(episodes):
    "Episodes/s of real-game evaluation with 1 and 2 worker processes (the same episodes)."
    from world_models.agent import AgentSpec, agent_parts
    from world_models.backends import LocalBackend
    from world_models.fitness import RealFitness
    from world_models.plumbing import assets_dir
    p = agent_parts(assets_dir(), 'doom'); spec = AgentSpec('doom', p['vae'], p['mdnrnn'], p['z0'])
    X = np.zeros((1, 1088)); rates = {}
    for w in (1, 2):
        be = LocalBackend(w)
        try:
            RealFitness(spec, be).scores(np.zeros((w, 1088)), 1, seed=123)  # start the workers, load V and M
            t = time.perf_counter(); s = RealFitness(spec, be).scores(X, episodes, seed=0); dt = time.perf_counter() - t
        finally: be.close()
        rates[w] = (episodes / dt, s.sum() / dt)
        print(f"real TakeCover evaluation, {w} worker(s): {rates[w][0]:6.2f} episodes/s, {rates[w][1]:6.0f} agent steps/s")
    print(f"speed-up with 2 workers: {rates[2][1] / rates[1][1]:.2f}x")

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, default=3); ap.add_argument('--episodes', type=int, default=8)
    ap.add_argument('--skip-real', action='store_true')
    a = ap.parse_args()
    generations_table(a.seeds)
    own, ref = overhead(CMAES, 100), overhead(PycmaES, 20)
    print(f"CMA-ES overhead per generation (n = 1,088, pop 64): course {own:.1f} ms, pycma {ref:.1f} ms ({ref / own:.1f}x)")
    if not a.skip_real: real_speedup(a.episodes)
