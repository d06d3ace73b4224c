"""Argon B2 under each model-inadequacy option: held-out coverage (docs/inadequacy.md).

The study is bayesff.workflows.inadequacy; the same from the command line:
``bayesff study inadequacy [--no-doc]``.

    python scripts/inadequacy_study.py     # about 5 minutes on 2 cores
"""

from bayesff.workflows import inadequacy

print(inadequacy.run_study(out="runs/inadequacy_study", doc="docs/inadequacy.md")["table"])
