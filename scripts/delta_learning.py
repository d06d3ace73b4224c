"""Delta learning: a GP correction on LJ against one on a bare wall (docs/gp.md).

The study is bayesff.workflows.delta_learning; the same from the command line:
``bayesff study delta-learning [--out DIR]``.

    python scripts/delta_learning.py     # -> reports/argon_gp/delta_learning.{png,csv,json}
"""

from bayesff.workflows import delta_learning

delta_learning.run_study("reports/argon_gp")
