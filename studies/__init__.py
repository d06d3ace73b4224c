"""Worked studies built on bayesff's public API (examples, not the library).

Each study is a module with a ``main()``; run it from the repository root
against the installed package, e.g. ``python -m studies.classical_vs_ml
--quick`` (``--help`` lists its options). Studies read the repository's
``models/`` and ``data/`` and write under ``runs/`` and ``reports/`` (paths
relative to the current directory, so run them from the repository root).
studies/README.md lists them with their documents.
"""
