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
# Keep freed training temporaries in the process instead of returning them to the OS each step:
# otherwise every step page-faults its buffers back in (benchmarks/README.md).
export MALLOC_MMAP_THRESHOLD_ := 33554432
export MALLOC_TRIM_THRESHOLD_ := 134217728

.PHONY: help setup book test lint unit nbval build-check lab clean notebooks book-nosolutions test-browser pdf bench

help:
	@echo "make book   - set up .venv and build the book into _build/html"
	@echo "make test   - set up .venv; ruff, unit tests, strict nbval, -W book build"
	@echo "make lab    - JupyterLab on book/"
	@echo "make test-browser     - every page in headless Chromium (needs Debian's chromium)"
	@echo "make pdf              - printable PDFs in _build/pdf/ (needs Debian's chromium)"
	@echo "make notebooks        - _build/notebooks.zip: chapters + regcode for students"
	@echo "make book-nosolutions - the book with every exercise solution removed"
	@echo "make bench  - benchmarks vs PyTorch/scikit-learn and notebook timings (benchmarks/results/)"
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

# pytest exits 5 when it collects nothing: that is a broken suite, so say so and fail.
unit: $(STAMP)
	$(BIN)/python -m pytest -p no:nbval tests --doctest-modules regcode -m "not browser"; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; fi; exit $$rc

nbval: $(STAMP)
	@if ls book/*.ipynb >/dev/null 2>&1; then \
		$(BIN)/python -m pytest $(NBVAL) book -p no:randomly; \
	else echo "no notebooks yet"; fi

build-check: $(STAMP)
	rm -rf _build/html
	$(JB) build . -W -n --keep-going

# build-check first: tests/test_publishing.py compares the book without solutions with it.
test: lint build-check unit nbval

_build/html/index.html: $(STAMP)
	$(JB) build . -W -n --keep-going

# Browser tests and handouts use Debian's Chromium (apt-get install -y chromium), never a download.
test-browser: _build/html/index.html
	$(BIN)/python -m pytest -p no:nbval tests/browser -m browser

pdf: _build/html/index.html
	$(BIN)/python scripts/make_pdf.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

notebooks: $(STAMP)
	$(BIN)/python scripts/make_notebooks_zip.py

book-nosolutions: $(STAMP)
	$(BIN)/python scripts/build_nosolutions.py

lab: $(STAMP)
	$(BIN)/jupyter lab book/

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
