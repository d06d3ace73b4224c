"""``python -m bayesff.cli``: the ``bayesff`` command."""

import sys

from bayesff.cli import main

sys.exit(main())
