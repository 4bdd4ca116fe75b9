"""Real-game CarRacing speed, measured in one run: the cost of one environment step with each renderer (unmodified,
pixel-identical 'exact', the agent-view training renderer, and no rendering at all: the physics floor), and whole agent
loops on 2 worker processes (V, M and C batched over the games a worker runs): today's loop ('exact' renderer,
8 games per worker) against the training loop ('agent' renderer, 16 games per worker). Ratios are to today's loop.
The shipped V, M and C.

Usage: python benchmarks/carracing_speed.py [--steps 300] [--episodes 32] [--json assets/carracing_results.json]
(--json: also store the figures under the file's "benchmark" key, which the CarRacing chapter reads.)
"""
import argparse, json, sys, time
from pathlib import Path
import numpy as np, torch
from gymnasium.envs.box2d.car_racing import CarRacing
from world_models.agent import AgentSpec, agent_parts
from world_models.backends import LocalBackend
from world_models.fitness import RealFitness
from world_models.envs import make_env
from world_models.plumbing import save_json, assets_dir
from world_models.evolve import load_controller

class PhysicsOnly(CarRacing):
    "CarRacing-v3 that draws nothing: what a step costs without pixels."
    def _render(self, mode): return np.zeros((64, 64, 3), np.uint8)

def env_steps_s(env, steps:int) -> float:
    "Environment steps per second on one weaving drive (this process, one thread)."
    env.reset(seed=7); t = time.perf_counter()
    for i in range(steps): env.step(np.array([np.sin(i / 15), .4, 0.], np.float32))
    return steps / (time.perf_counter() - t)

def loop_steps_s(spec, x, episodes:int, steps:int, renderer:str, slots:int) -> float:
    "Agent steps per second scoring `episodes` games of `steps` steps on 2 workers, V, M and C batched per worker."
    be = LocalBackend(2)
    try:
        fit = RealFitness(spec, be, max_steps=steps, renderer=renderer, slots=slots)
        RealFitness(spec, be, max_steps=5, renderer=renderer, slots=slots).scores(np.stack([x] * 2 * slots), 1, seed=1)  # warm
        t = time.perf_counter(); fit.scores(np.stack([x] * episodes), 1, seed=0)
        return episodes * steps / (time.perf_counter() - t)
    finally: be.close()

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=300); ap.add_argument('--episodes', type=int, default=32)
    ap.add_argument('--json', type=Path, default=None, help='a results file whose "benchmark" entry gets the figures')
    a = ap.parse_args(); torch.set_num_threads(1)
    p = agent_parts(assets_dir(), 'carracing'); spec = AgentSpec('carracing', p['vae'], p['mdnrnn'], p['z0'])
    x = load_controller(p['controller']).get_flat()  # the shipped C: it stays on the road, so no game ends early
    env = {'unmodified': make_env('carracing'), 'exact': make_env('carracing', renderer='exact'),
           'agent view': make_env('carracing', renderer='agent'), 'physics only': PhysicsOnly()}
    env_s = {k: env_steps_s(e, a.steps) for k, e in env.items()}
    today = loop_steps_s(spec, x, a.episodes, a.steps, 'exact', 8)
    train = loop_steps_s(spec, x, a.episodes, a.steps, 'agent', 16)
    print(f"today's loop (2 workers, 'exact' renderer, 8 games each): {today:.0f} agent steps/s = 1.00x")
    for k, s in env_s.items(): print(f"environment alone, {k}: {s:.0f} steps/s = {s / today:.2f}x")
    print(f"training loop (2 workers, 'agent' renderer, 16 games each): {train:.0f} agent steps/s = {train / today:.2f}x")
    if a.json:
        res = json.loads(a.json.read_text()) if a.json.exists() else {}
        res['benchmark'] = dict(command='python ' + ' '.join(sys.argv), steps=a.steps, episodes=a.episodes,
                                today_loop_steps_s=round(today), training_loop_steps_s=round(train),
                                training_loop_ratio=round(train / today, 2),
                                env_steps_s={k: round(v) for k, v in env_s.items()},
                                env_ratio={k: round(v / today, 2) for k, v in env_s.items()})
        save_json(a.json, res)
