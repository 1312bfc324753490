# Two commands on a fresh machine:  make book   and   make test
# Both create .venv and install requirements.txt (exact pins) when needed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JB     := $(BIN)/jupyter-book
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
export PYTHONHASHSEED := 0
# One BLAS thread: the same rounding on every machine, and no oversubscription on 2 cores.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1

.PHONY: help setup book test lint unit nbval build-check lab clean

help:
	@echo "make book   - set up .venv and build the book into _build/html"
	@echo "make test   - set up .venv; ruff, unit tests, strict nbval, -W book build"
	@echo "make lab    - JupyterLab on book/"
	@echo "make clean  - remove _build and caches (keeps .venv)"

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)

book: $(STAMP)
	$(JB) build . -W -n --keep-going

lint: $(STAMP)
	$(BIN)/ruff check regcode tests book
	$(BIN)/ruff format --check regcode tests

unit: $(STAMP)
	$(BIN)/python -m pytest tests -m "not browser"

nbval: $(STAMP)
	@if ls book/*.ipynb >/dev/null 2>&1; then \
		$(BIN)/python -m pytest $(NBVAL) book -p no:randomly; \
	else echo "no notebooks yet"; fi

build-check: $(STAMP)
	rm -rf _build/html
	$(JB) build . -W -n --keep-going

test: lint unit nbval build-check

lab: $(STAMP)
	$(BIN)/jupyter lab book/

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
