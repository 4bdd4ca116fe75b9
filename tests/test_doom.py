"The Doom chapter's temperature sweep on the real pipeline stages (the chapter checks its bookkeeping with stand-ins)."
import json, shutil
import torch
from world_models.checkpoint import read_weights, save_weights
from world_models.doom import sweep_temperatures
from world_models.mdnrnn import load_mdnrnn
from world_models.vae import assets_dir

def test_sweep_temperatures_on_the_real_stages(tmp_path):
    "A run folder with the shipped V and z0 and an M whose dreams end at the first step: C trained and scored at one tau."
    a, run = assets_dir(), tmp_path / 'run'
    (run / 'vae').mkdir(parents=True); (run / 'mdnrnn').mkdir()
    shutil.copy(a / 'vae_doom.safetensors', run / 'vae' / 'vae.safetensors'); shutil.copy(a / 'z0_doom.npz', run / 'mdnrnn' / 'z0.npz')
    m = load_mdnrnn(a / 'mdnrnn_doom.safetensors')
    with torch.no_grad(): m.head.bias[-1] = 100.  # the death logit fires at once: every dream lasts one step
    save_weights(run / 'mdnrnn' / 'mdnrnn.safetensors', m, m.config, **read_weights(a / 'mdnrnn_doom.safetensors')[2])
    rows = sweep_temperatures(run, taus=(1.3,), preset='smoke', workers=1, progress=False, episodes=1, generations=1)
    assert [r['tau'] for r in rows] == [1.3] and rows[0]['generations'] == 1
    assert rows[0]['dream_mean'] == 1 and rows[0]['real_mean'] > 0  # one dream step; a real game lasts longer
    assert (run / 'controller-tau1.30' / 'controller.safetensors').is_file()
    assert json.loads((run / 'temperatures.json').read_text()) == rows
