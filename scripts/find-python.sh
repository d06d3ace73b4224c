#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter, or explain and exit 1.
#
# bayesff needs Python >= 3.12: jax >= 0.11 and arviz >= 1.0 (the DataTree API)
# are not published for 3.11, and on 3.11 pip silently resolves arviz 0.23 and
# jax 0.10 instead. Set BAYESFF_PYTHON to force an interpreter.
set -u
ok() { "$@" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
resolve() { "$@" -c 'import sys; print(sys.executable)'; }
if [ -n "${BAYESFF_PYTHON:-}" ]; then
  if ok "$BAYESFF_PYTHON"; then resolve "$BAYESFF_PYTHON"; exit 0; fi
  echo "BAYESFF_PYTHON=$BAYESFF_PYTHON is not a Python >= 3.12" >&2; exit 1
fi
for cand in python3.12 python3.13 python3 python; do
  if command -v "$cand" >/dev/null 2>&1 && ok "$cand"; then resolve "$cand"; exit 0; fi
done
# pyenv installs (as on the project's machines) are reachable through PYENV_VERSION.
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])' | sort -V); do
    if PYENV_VERSION="$v" ok python; then PYENV_VERSION="$v" resolve python; exit 0; fi
  done
fi
cat >&2 <<'MSG'
error: bayesff needs Python >= 3.12 (jax >= 0.11 and arviz >= 1.0 require it),
and none was found on PATH (python3.13, python3.12, python3, python) or in pyenv.
Install one (for example `pyenv install 3.12`) or point BAYESFF_PYTHON at it:
    make test BAYESFF_PYTHON=/path/to/python3.12
MSG
exit 1
