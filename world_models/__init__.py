__version__ = "0.1.0"

# Light on purpose: `world-models --help` imports this package. The dream environments are registered with Gymnasium
# by `world_models.dream` (import it before `gymnasium.make('world_models/DoomDream-v0')`).
