import pytest
from world_models.data import collect_rollouts
from world_models.presets import collect_preset

@pytest.fixture(scope='session')
def doom_smoke(tmp_path_factory):
    "A smoke Doom collection (4 episodes) shared by the tests that only read it."
    out = tmp_path_factory.mktemp('doom_smoke')
    man = collect_rollouts(collect_preset('doom', 'smoke'), out, seed=0, workers=2, progress=False)
    return out, man
