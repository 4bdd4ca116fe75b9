__version__ = "0.1.0"

# Dream environments, registered on `import world_models` so that `gymnasium.make` finds them.
from gymnasium.envs.registration import register as _register, registry as _registry
for _id, _env in [('world_models/DoomDream-v0', 'doom'), ('world_models/CarRacingDream-v0', 'carracing')]:
    if _id not in _registry: _register(id=_id, entry_point='world_models.dream:DreamEnv', kwargs={'env': _env})
