#!/usr/bin/env python3
"""Doom's world at the reference code's scale, on one GPU machine, inside a wall-clock budget.

The laptop pipeline trains M for a few hundred steps of 32 x 300; the reference code trained it for
tens of thousands of steps of 100 x 500 on 10,000 random rollouts. On a GPU machine with many cores this
script does the reference scale in one go, each stage cut off by its own deadline:

1. collect random-hold rollouts of TakeCover with one process per core (the package's per-episode task, cut off at a deadline);
2. encode every frame with the shipped V on the GPU;
3. train M (the package's `MDNRNN` and `mdn_losses`, the reference code's batch 100 x 500, learning-rate
   decay and gradient clipping) with all the series held on the GPU, so no step waits for the disk;
4. score M and the shipped M on the same held-out episodes (mixture loss, death loss, how often the death
   logit fires at a real death and before it);
5. start CMA-ES in the new M's dream on the CPU cores (the package's `train_controller`), saving `es.npz`
   after every generation so that `world-models train-controller` can carry on where it stopped.

Everything it keeps goes to --out: mdnrnn.safetensors, z0.npz, m_metrics.csv, report.json and c/ (the
controller run). Usage: python scripts/doom_gpu.py --out OUT --budget 560
"""
import argparse, csv, os, time, multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path

import torch

from world_models.data import _collect_task, collect_preset, load_rollout, save_json, set_seed
from world_models.vae import assets_dir, load_vae, to_input
from world_models.mdnrnn import MDNRNN, load_mdnrnn, mdn_losses, mdn_preset
from world_models.checkpoint import save_weights
from world_models.dream import save_z0
from world_models.agent import AgentSpec, DreamFitness, LocalBackend
from world_models.evolve import es_preset, train_controller
from world_models.doom import death_stats

T0 = time.time()
def log(*a): print(f"[{time.time() - T0:6.1f}s]", *a, flush=True)


def collect(out:Path, n:int, seed:int, workers:int, deadline:float) -> list:
    "Random rollouts on `workers` processes until `n` episodes or the deadline; returns the shard paths."
    cfg = collect_preset('doom', 'paper', n_rollouts=n); out.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(workers, mp_context=mp.get_context('spawn')) as pool:
        futs = [pool.submit(_collect_task, asdict(cfg), seed, i, str(out)) for i in range(n)]
        for j, f in enumerate(as_completed(futs)):
            f.result()
            if (j + 1) % 1000 == 0: log('collected', j + 1)
            if time.time() > deadline: break
        for f in futs: f.cancel()  # the running ones finish; their shards are kept
    return sorted(out.glob('rollout_*.npz'))


@torch.no_grad()
def encode(vae, shards:list, dev:str, threads:int=16) -> list:
    "Per episode: mu, logvar (T, z), action (T, 1), done (T,), as GPU tensors."
    vae = vae.to(dev).eval()
    one, eps = lambda p: load_rollout(p, ['obs', 'action', 'done']), []
    with ThreadPoolExecutor(threads) as pool:
        for d in pool.map(one, shards):
            x = to_input(torch.from_numpy(d['obs']).to(dev))
            mu, logvar = vae.encode(x)
            eps.append(dict(mu=mu.float(), logvar=logvar.float(), action=torch.from_numpy(d['action']).float().to(dev),
                            done=torch.from_numpy(d['done']).to(dev)))
    return eps


class GpuSeries:
    "All episodes padded into GPU tensors; `batch` cuts one random window per chosen episode, like `SequenceDataset`."
    def __init__(self, eps:list, seq:int, dev:str):
        self.N, self.seq, self.dev = len(eps), seq, dev
        self.T = torch.tensor([len(e['mu']) for e in eps], device=dev)
        L = int(self.T.max()) + seq  # room for a window starting anywhere
        self.data = {k: torch.zeros(self.N, L, *eps[0][k].shape[1:], dtype=eps[0][k].dtype, device=dev) for k in eps[0]}
        for i, e in enumerate(eps):
            for k, v in e.items(): self.data[k][i, :len(v)] = v

    def batch(self, idx:torch.Tensor, gen:torch.Generator, start0:bool=False) -> dict:
        T = self.T[idx]; room = (T - self.seq).clamp(min=0) + 1
        s = torch.zeros_like(T) if start0 else (torch.rand(len(idx), generator=gen, device=self.dev) * room).long()
        t = s[:, None] + torch.arange(self.seq, device=self.dev)  # (B, seq)
        out = {k: v[idx[:, None], t] for k, v in self.data.items()}
        return {**out, 'mask': t < T[:, None], 't0': s}


def train_m(train:GpuSeries, cfg, deadline:float, seed:int) -> tuple:
    "Train M on GPU-resident series until `cfg.max_steps` or the deadline; returns (model on the CPU, metric rows, steps, seconds)."
    set_seed(seed); dev = train.dev
    model = MDNRNN(**cfg.model).to(dev); opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator(device=dev); gen.manual_seed(seed)
    rows, acc, step, t_start = [], None, 0, time.time()
    per_epoch = (train.N + cfg.batch_size - 1) // cfg.batch_size
    model.train()
    while step < cfg.max_steps and time.time() < deadline:
        if step % per_epoch == 0: perm = torch.randperm(train.N, generator=gen, device=dev)
        k = step % per_epoch; idx = perm[k * cfg.batch_size:(k + 1) * cfg.batch_size]
        for g in opt.param_groups: g['lr'] = (cfg.lr - cfg.min_lr) * cfg.lr_decay ** step + cfg.min_lr
        losses = mdn_losses(model, train.batch(idx, gen), cfg.done_weight)
        opt.zero_grad(set_to_none=True); losses['loss'].backward()
        torch.nn.utils.clip_grad_value_(model.parameters(), cfg.grad_clip); opt.step(); step += 1
        v = torch.stack([losses[n].detach() for n in ('loss', 'z_loss', 'done_loss')])
        acc = v if acc is None else acc + v
        if step % 100 == 0:
            m = (acc / 100).tolist(); acc = None
            rows.append(dict(step=step, epoch=round(step / per_epoch, 2), loss=round(m[0], 4), z_loss=round(m[1], 4),
                             done_loss=round(m[2], 4), seconds=round(time.time() - t_start, 1)))
            if step % 1000 == 0 or step == 100: log('M', rows[-1])
    return model.cpu(), rows, step, time.time() - t_start


@torch.no_grad()
def held_out(model:MDNRNN, val:GpuSeries, seed:int=0) -> dict:
    "Mixture and death loss on whole held-out episodes (from their first frame), and how often the death logit fires (`death_stats`)."
    model = model.to(val.dev).eval(); gen = torch.Generator(device=val.dev); gen.manual_seed(seed)
    torch.manual_seed(seed)
    idx = torch.arange(val.N, device=val.dev); b = val.batch(idx, gen, start0=True)
    l = mdn_losses(model, b)
    z = b['mu']; L = z.shape[1] - 1
    restart = ((b['t0'][:, None] + torch.arange(L, device=val.dev)) == 0).float()
    p, _ = model(z[:, :-1], b['action'][:, :-1], restart)
    m = b['mask'][:, :-1]; st = death_stats(p['done_logit'][m].cpu(), b['done'][:, :-1][m].cpu())
    model.cpu()
    return dict(z_loss=round(l['z_loss'].item(), 4), done_loss=round(l['done_loss'].item(), 4),
                death_recall=st['recall'], false_alarm=st['false_alarm'])  # fired at a real death; fired while alive


class TimeUp(Exception): pass

class Deadline(DreamFitness):
    "Dream fitness that refuses to start a generation after the deadline."
    deadline = 0.
    def scores(self, X, rollouts, seed):
        if time.time() > self.deadline: raise TimeUp()
        return super().scores(X, rollouts, seed)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', required=True); ap.add_argument('--budget', type=float, default=560, help='seconds in all')
    ap.add_argument('--rollouts', type=int, default=10_000); ap.add_argument('--collect-until', type=float, default=0.28)
    ap.add_argument('--m-until', type=float, default=0.82, help='fraction of the budget when M stops')
    ap.add_argument('--max-steps', type=int, default=100_000); ap.add_argument('--batch', type=int, default=100)
    ap.add_argument('--seq', type=int, default=500); ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--workers', type=int, default=os.cpu_count()); ap.add_argument('--work', default='/tmp/doom_gpu')
    a = ap.parse_args()
    out, work = Path(a.out), Path(a.work); out.mkdir(parents=True, exist_ok=True); (out / 'c').mkdir(exist_ok=True)
    dev = 'cuda' if torch.cuda.is_available() else 'cpu'
    torch.backends.cuda.matmul.allow_tf32 = True; torch.backends.cudnn.allow_tf32 = True
    report = dict(device=torch.cuda.get_device_name() if dev == 'cuda' else 'cpu', workers=a.workers, args=vars(a))
    shards = collect(work / 'rollouts', a.rollouts, a.seed, a.workers, T0 + a.collect_until * a.budget)
    report['collect'] = dict(episodes=len(shards), seconds=round(time.time() - T0, 1)); log('collected', report['collect'])
    t = time.time(); eps = encode(load_vae(assets_dir() / 'vae_doom.safetensors'), shards, dev)
    report['encode'] = dict(frames=sum(len(e['mu']) for e in eps), seconds=round(time.time() - t, 1)); log('encoded', report['encode'])
    n_val = max(1, len(eps) // 20); tr, va = eps[:-n_val], eps[-n_val:]
    save_z0(out / 'z0.npz', {k: torch.stack([e[k][0] for e in tr]).cpu().numpy() for k in ('mu', 'logvar')})
    cfg = mdn_preset('doom', 'paper', batch_size=a.batch, seq_len=a.seq, max_steps=a.max_steps)
    train = GpuSeries(tr, cfg.seq_len + 1, dev); val = GpuSeries(va, max(len(e['mu']) for e in va) + 1, dev)  # + 1: the last step, a death, is scored too
    del eps, tr, va  # the padded copies above hold the same series
    model, rows, steps, secs = train_m(train, cfg, T0 + a.m_until * a.budget, a.seed)
    save_weights(out / 'mdnrnn.safetensors', model, model.config, steps=steps, epochs=round(steps * cfg.batch_size / train.N, 2),
                 seed=a.seed, episodes=train.N, seconds=round(secs, 1), device=report['device'], train_config=asdict(cfg))
    with open(out / 'm_metrics.csv', 'w', newline='') as f:
        w = csv.DictWriter(f, list(rows[0]) if rows else ['step']); w.writeheader(); w.writerows(rows)
    report['mdnrnn'] = dict(steps=steps, seconds=round(secs, 1), train_episodes=train.N, validation_episodes=val.N,
                            validation=held_out(model, val), shipped_validation=held_out(load_mdnrnn(assets_dir() / 'mdnrnn_doom.safetensors'), val))
    del train, val; torch.cuda.empty_cache() if dev == 'cuda' else None
    save_json(out / 'report.json', report); log('M', report['mdnrnn'])
    spec = AgentSpec('doom', str(assets_dir() / 'vae_doom.safetensors'), str(out / 'mdnrnn.safetensors'), str(out / 'z0.npz'))
    fit = Deadline(spec, LocalBackend(a.workers), tau=1.15); fit.deadline = T0 + a.budget - 45  # a generation must fit
    es = es_preset('doom', 'paper', eval_every=10, eval_rollouts=1024)
    t = time.time()
    try: train_controller(fit, 'doom', out / 'c', es, seed=0, progress=False)
    except TimeUp: pass
    finally: fit.backend.close()
    gens = list(csv.DictReader(open(out / 'c' / 'generations.csv'))) if (out / 'c' / 'generations.csv').exists() else []
    report['controller'] = dict(generations=len(gens), seconds=round(time.time() - t, 1), last=gens[-1] if gens else None)
    report['seconds'] = round(time.time() - T0, 1); save_json(out / 'report.json', report); log('done', report['controller'])


if __name__ == '__main__': main()
