"""``python -m sklearn_ser`` runs the ``sklearn-ser`` command line."""

import sys

from .experiments import main

if __name__ == "__main__":
    sys.exit(main())
