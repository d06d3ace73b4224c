"""Argon B2-only, structure-only and joint posteriors, LJ and Mie n-6 (docs/joint.md).

The study is bayesff.workflows.argon_joint; the same from the command line:
``bayesff study argon-joint [--reuse] [--chains N --warmup N --samples N] [--skip NAMES]``.

    python scripts/argon_joint_study.py     # calibrates the problems whose run is missing
"""

from bayesff.workflows import argon_joint

res = argon_joint.run_study(runs="runs", out="reports/argon_joint", reuse=True)
print(argon_joint.write_markdown(res))
