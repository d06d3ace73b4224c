"""Classical versus ML pair force, and active learning (SYNTHETIC truth; docs/transfer_ml.md).

The study is bayesff.workflows.classical_vs_ml; the same from the command line:
``bayesff study classical-vs-ml [--quick] [--out DIR]``.

    python scripts/classical_vs_ml.py   # -> reports/classical_vs_ml/{comparison,active_learning}.*
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices: threaded BLAS only contends

from bayesff.workflows import classical_vs_ml

res = classical_vs_ml.run_study(out="reports/classical_vs_ml")
print(classical_vs_ml.comparison_markdown(res["comparison"]))
print(classical_vs_ml.active_learning_markdown(res["active_learning"]))
