"""Real-game CarRacing speed, measured in one run: the cost of one environment step with each renderer (unmodified,
pixel-identical 'exact', the agent-view training renderer, and no rendering at all: the physics floor), and whole agent
loops on 2 worker processes (V, M and C batched over the games a worker runs): today's loop ('exact' renderer, 8 games
per worker, V in float32) against the training loop ('agent' renderer, up to 64 games per worker, V's encoder at
`training_encoder`'s precision: int8 where the CPU has VNNI, else bfloat16 where it has AVX-512 BF16, else float32).
Ratios are to today's loop.
Then the training loop once more in this process, timed by component (physics, drawing, resets, V, M and C, the rest)
per game step. The shipped V, M and C. The machine's load average is stored with the figures.

Usage: python benchmarks/carracing_speed.py [--steps 1000] [--episodes 128] [--today-episodes 32] [--json assets/carracing_results.json]
(--json: also store the figures under the file's "benchmark" key, which the CarRacing chapter reads.)
"""
import argparse, json, os, sys, time
from pathlib import Path
import numpy as np, torch
from gymnasium.envs.box2d.car_racing import CarRacing
from world_models.agent import AgentSpec, agent_parts
from world_models.backends import LocalBackend
from world_models.fitness import RealFitness, TRAIN_SLOTS, chunk_size, training_precision
from world_models.envs import make_env
from world_models.plumbing import save_json, assets_dir
from world_models.evolve import load_controller

class PhysicsOnly(CarRacing):
    "CarRacing-v3 that draws nothing: what a step costs without pixels."
    def _render(self, mode): return np.zeros((64, 64, 3), np.uint8)

def cpu_model() -> str:
    "This machine's CPU and its core count, as the figures depend on them."
    try: name = next(l for l in open('/proc/cpuinfo') if l.startswith('model name')).split(':')[1].strip()
    except (OSError, StopIteration): name = 'unknown CPU'
    return f"{name}, {os.cpu_count()} cores"

def env_steps_s(env, steps:int) -> float:
    "Environment steps per second on one weaving drive (this process, one thread)."
    env.reset(seed=7); t = time.perf_counter()
    for i in range(steps): env.step(np.array([np.sin(i / 15), .4, 0.], np.float32))
    return steps / (time.perf_counter() - t)

def components_ms(spec, x, steps:int, slots:int) -> dict:
    "Milliseconds per game step of the training loop in this process (one worker's share), split by component."
    import world_models.fitness as A  # where `Slots`, `play_jobs` and the `encode_obs` they call live
    from world_models.carview import AgentViewCarRacing
    T, pc, inside = dict(render=0., step=0., reset=0., V=0., act=0.), time.perf_counter, []
    def timed(key, f):  # the step and drawing a reset does inside count as the reset's
        def g(*a, **k):
            if inside and key != 'reset': return f(*a, **k)
            inside.extend([key] * (key == 'reset')); t = pc()
            try: return f(*a, **k)
            finally:
                T[key] += pc() - t
                if key == 'reset': inside.pop()
        return g
    saved = [(AgentViewCarRacing, 'agent_view'), (CarRacing, 'step'), (CarRacing, 'reset'), (A, 'encode_obs'),
             (A.Slots, 'act')]
    old = [getattr(o, k) for o, k in saved]
    for (o, k), key in zip(saved, ('render', 'step', 'reset', 'V', 'act')): setattr(o, k, timed(key, getattr(o, k)))
    try:
        A.play_jobs(spec, np.stack([x] * slots), range(slots), 5, slots=slots, renderer='agent')  # warm
        for k in T: T[k] = 0.
        X, seeds = np.stack([x] * slots), range(100, 100 + slots)
        t = pc(); A.play_jobs(spec, X, seeds, steps, slots=slots, renderer='agent')
        total, n = pc() - t, slots * steps
    finally:
        for (o, k), f in zip(saved, old): setattr(o, k, f)
    ms = dict(physics=T['step'] - T['render'], render=T['render'], reset=T['reset'], V=T['V'],
              M_and_C=T['act'] - T['V'])
    ms['other'] = total - T['step'] - T['reset'] - T['act']  # the loop, gymnasium's wrappers
    return {k: round(v / n * 1e3, 3) for k, v in ms.items()} | dict(total=round(total / n * 1e3, 3))

def loop_steps_s(spec, x, episodes:int, steps:int, renderer:str, slots:int) -> float:
    "Agent steps per second scoring `episodes` games of `steps` steps on 2 workers, V, M and C batched per worker."
    be = LocalBackend(2)
    try:
        fit = RealFitness(spec, be, max_steps=steps, renderer=renderer, slots=slots)
        warm = RealFitness(spec, be, max_steps=5, renderer=renderer, slots=slots)  # workers load V and M once
        warm.scores(np.stack([x] * 2 * slots), 1, seed=1)
        t = time.perf_counter(); fit.scores(np.stack([x] * episodes), 1, seed=0)
        return episodes * steps / (time.perf_counter() - t)
    finally: be.close()

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=1000); ap.add_argument('--episodes', type=int, default=128,
                                                                      help="the training loop's games")
    ap.add_argument('--today-episodes', type=int, default=32, help="today's loop's games (it is ~10x slower)")
    ap.add_argument('--json', type=Path, default=None, help='a results file whose "benchmark" entry gets the figures')
    a = ap.parse_args(); torch.set_num_threads(1)
    p = agent_parts(assets_dir(), 'carracing'); spec = AgentSpec('carracing', p['vae'], p['mdnrnn'], p['z0'])
    x = load_controller(p['controller']).get_flat()  # the shipped C: it stays on the road, so no game ends early
    env = {'unmodified': make_env('carracing'), 'exact': make_env('carracing', renderer='exact'),
           'agent view': make_env('carracing', renderer='agent'), 'physics only': PhysicsOnly()}
    env_s = {k: env_steps_s(e, a.steps) for k, e in env.items()}
    today = loop_steps_s(spec, x, a.today_episodes, a.steps, 'exact', 8)
    slots = chunk_size(a.episodes, TRAIN_SLOTS)  # the games a worker plays at once, as in training
    train = loop_steps_s(spec, x, a.episodes, a.steps, 'agent', slots)
    parts = components_ms(spec, x, a.steps, slots)
    print(f"today's loop (2 workers, 'exact' renderer, 8 games each): {today:.0f} agent steps/s = 1.00x")
    for k, s in env_s.items(): print(f"environment alone, {k}: {s:.0f} steps/s = {s / today:.2f}x")
    print(f"training loop (2 workers, 'agent' renderer, {slots} games each): {train:.0f} agent steps/s = "
          f"{train / today:.2f}x")
    print(f"V's encoder in the training loop: {training_precision()} (this CPU: {cpu_model()})")
    print("training loop in one process, ms per game step: " + ', '.join(f"{k} {v:.3f}" for k, v in parts.items()))
    if a.json:
        res = json.loads(a.json.read_text()) if a.json.exists() else {}
        res['benchmark'] = dict(command='python ' + ' '.join(sys.argv), steps=a.steps, episodes=a.episodes,
                                today_episodes=a.today_episodes,
                                today_loop_steps_s=round(today), training_loop_steps_s=round(train),
                                training_loop_ratio=round(train / today, 2),
                                env_steps_s={k: round(v) for k, v in env_s.items()},
                                env_ratio={k: round(v / today, 2) for k, v in env_s.items()},
                                components_ms=parts, load=[round(v, 2) for v in os.getloadavg()], cpu=cpu_model(),
                                encoder_precision=training_precision(), training_slots=slots)
        save_json(a.json, res)
