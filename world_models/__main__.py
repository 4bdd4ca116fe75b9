"`python -m world_models`: the `world-models` command line (see the CLI chapter, nbs/90_cli.ipynb)."
import sys
from world_models.cli import main

if __name__ == '__main__': sys.exit(main())
