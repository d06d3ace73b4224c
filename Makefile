# One command to set up and run the main job, one to set up and run the tests.
#   make demo   creates .venv, installs bayesff, calibrates LJ argon against B2(T), writes the
#               report under runs/ (git-ignored: the clone is left as it was)
#   make test   creates .venv, installs bayesff with its test dependencies, runs pytest
# Both find a Python >= 3.12 themselves (scripts/find-python.sh) and stop with a
# clear message when there is none; BAYESFF_PYTHON=/path/to/python overrides.

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
BAYESFF_PYTHON ?=
export BAYESFF_PYTHON
# OpenBLAS worker threads behind JAX's CPU linear algebra stall under load (a 3 ms
# Cholesky measured at ~480 ms on 2 busy cores); one thread each avoids it
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: demo test bench lint format clean venv constraints

$(STAMP): pyproject.toml constraints.txt
	@base=$$(scripts/find-python.sh) || exit 1; \
	  echo "Using $$base ($$($$base --version))"; \
	  rm -rf $(VENV) && $$base -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e . --group dev
	@touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/bayesff calibrate models/argon_lj_b2.toml --force
	$(VENV)/bin/bayesff report runs/argon_lj_b2/posterior.nc --out runs/argon_lj_b2/report

test: $(STAMP)
	@bash scripts/ensure-chromium.sh
	$(PY) -m pytest -n 2 --dist worksteal --durations=25 $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) benchmarks/run.py
	$(PY) benchmarks/liquid_bench.py
	$(PY) benchmarks/md_bench.py
	$(PY) benchmarks/joint_nuts.py

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

# the versions the suite passed with, after an upgrade in .venv (pip install -U ...)
constraints:
	@{ sed -n '/^#/p' constraints.txt; $(PY) -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
