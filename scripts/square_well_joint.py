"""The square well's joint structure-and-thermo tolerance for argon (docs/square_well.md).

The study is bayesff.workflows.square_well; the same from the command line:
``bayesff study square-well [--reuse] [--runs DIR] [--out DIR] [--no-report]``.

    python scripts/square_well_joint.py     # about 5-10 min on 2 busy cores
"""

from bayesff.workflows import square_well

square_well.run_study(runs="runs", out="reports/argon_sw_joint")
