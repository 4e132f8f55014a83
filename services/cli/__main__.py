"""``python -m services.cli`` runs the ``qrelay`` command line."""
import sys

from services.cli import main

sys.exit(main())
