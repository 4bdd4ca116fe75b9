"""Real-game CarRacing speed, measured in one run: the fast renderer against the unmodified CarRacing-v3 (frames checked
identical), one agent stepping alone against 8 episodes in lockstep with batched V, M and C, and 2 worker processes against 1.
The shipped V and M; C is a fixed random controller.

Usage: python benchmarks/carracing_speed.py [--steps 300] [--episodes 8]
"""
import argparse, time
import numpy as np, torch
from world_models.agent import AgentSpec, LocalBackend, RealFitness, agent_parts, build_agent, play_jobs, run_episode
from world_models.data import episode_seed, make_env
from world_models.vae import assets_dir

def env_speed(steps):
    "Milliseconds per step of each renderer on the same drive, and whether every frame matched."
    out, frames = {}, {}
    for fast in (False, True):
        env = make_env('carracing', fast=fast); env.reset(seed=7); F = []; t = time.perf_counter()
        for i in range(steps): F.append(env.step(np.array([np.sin(i / 15), .4, 0.], np.float32))[0])
        out[fast] = (time.perf_counter() - t) / steps * 1e3; frames[fast] = np.stack(F); env.close()
    return out, np.array_equal(frames[False], frames[True])

def agent_speed(spec, X, seeds, steps):
    "Agent steps/s in this process: one agent at a time in the unmodified game, then all episodes in lockstep (fast renderer)."
    env = make_env('carracing'); t = time.perf_counter()
    n = sum(run_episode(build_agent(spec, x), env, s, steps)['steps'] for x, s in zip(X, seeds)); alone = n / (time.perf_counter() - t)
    env.close(); play_jobs(spec, X[:1], seeds[:1], 5, fast=True)  # open the lockstep games before timing
    t = time.perf_counter(); play_jobs(spec, X, seeds, steps, fast=True); lock = n / (time.perf_counter() - t)
    return alone, lock, n

def worker_speed(spec, X, steps):
    "Seconds to score the same 2 x 8 episodes with 1 and 2 worker processes."
    out = {}
    for w in (1, 2):
        be = LocalBackend(w)
        try:
            RealFitness(spec, be, max_steps=5, fast=True).scores(X[:w * 8], 1, seed=1)  # start the workers, load V and M
            t = time.perf_counter(); RealFitness(spec, be, max_steps=steps, fast=True).scores(X[:16], 1, seed=0); out[w] = time.perf_counter() - t
        finally: be.close()
    return out

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=300); ap.add_argument('--episodes', type=int, default=8)
    a = ap.parse_args(); torch.set_num_threads(1)
    p = agent_parts(assets_dir(), 'carracing'); spec = AgentSpec('carracing', p['vae'], p['mdnrnn'], p['z0'])
    X = np.random.default_rng(0).normal(0, 0.1, (16, 867)); seeds = [episode_seed(0, i) for i in range(a.episodes)]
    ms, same = env_speed(a.steps)
    print(f"environment step: unmodified {ms[False]:.2f} ms, fast renderer {ms[True]:.2f} ms -> {ms[False] / ms[True]:.2f}x; frames identical: {same}")
    alone, lock, n = agent_speed(spec, X[:a.episodes], seeds, a.steps)
    print(f"agent steps/s, one process ({n} steps): one agent, unmodified game {alone:.0f}; {a.episodes} in lockstep, fast renderer {lock:.0f} -> {lock / alone:.2f}x")
    w = worker_speed(spec, X, a.steps)
    print(f"16 episodes of {a.steps} steps: 1 worker {w[1]:.1f} s, 2 workers {w[2]:.1f} s -> {w[1] / w[2]:.2f}x")
    print(f"real-game training throughput vs the unmodified one-agent loop: {(lock / alone) * (w[1] / w[2]):.2f}x")
