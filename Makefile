# Two commands on a fresh machine:  make book   and   make test
# Both create .venv and install requirements.txt (exact pins) when needed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JB     := $(BIN)/jupyter-book
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
CHAPTERS := $(sort $(wildcard book/[0-9][0-9]_*.ipynb))
export PYTHONHASHSEED := 0
# One BLAS thread for speed (no oversubscription on 2 cores). The stored outputs do not depend on
# it: make test-portability checks them with 2 threads and other BLAS kernels too.
# Override on the command line: make nbval OPENBLAS_NUM_THREADS=2
OMP_NUM_THREADS ?= 1
OPENBLAS_NUM_THREADS ?= 1
MKL_NUM_THREADS ?= 1
export OMP_NUM_THREADS OPENBLAS_NUM_THREADS MKL_NUM_THREADS
# Keep freed training temporaries in the process instead of returning them to the OS each step:
# otherwise every step page-faults its buffers back in (benchmarks/README.md).
export MALLOC_MMAP_THRESHOLD_ := 33554432
export MALLOC_TRIM_THRESHOLD_ := 134217728

.PHONY: help setup book test lint unit nbval build-check lab clean notebooks book-nosolutions test-browser pdf bench \
	execute test-portability lab-source test-student-zip labs grade nbval-labs figures pdf-nosolutions

help:
	@echo "make book   - set up .venv and build the book into _build/html"
	@echo "make test   - set up .venv; ruff, unit tests, strict nbval, -W book build"
	@echo "make test-portability - strict nbval under other BLAS kernels and 2 threads; chapters with SEED = 1, 2, 3"
	@echo "make execute [NB=book/03_dropout.ipynb] - re-execute chapters in place in a fresh kernel"
	@echo "make lab    - JupyterLab on the plain notebooks (converted, with solutions) in _build/notebooks/"
	@echo "make lab-source       - JupyterLab on the MyST sources in book/ (for authors)"
	@echo "make test-browser     - every page in headless Chromium (needs Debian's chromium)"
	@echo "make pdf              - printable PDFs in _build/pdf/ (needs Debian's chromium)"
	@echo "make notebooks        - _build/notebooks.zip (students) and notebooks-solutions.zip: plain chapters + regcode"
	@echo "make test-student-zip - run every chapter of notebooks.zip in a fresh venv with only its requirements"
	@echo "make book-nosolutions - the book with every exercise solution removed"
	@echo "make bench  - benchmarks vs PyTorch/scikit-learn and notebook timings (benchmarks/results/)"
	@echo "make labs   - re-execute the instructor labs (book/labs/instructor/) and build the student versions (book/labs/)"
	@echo "make grade SUBMISSIONS=dir - autograde submitted labs (nbgrader); points per task in _build/labs/grades.csv"
	@echo "make nbval-labs       - strict nbval of the instructor labs"
	@echo "make figures          - every chapter figure as SVG and PNG with caption and licence, in _build/figures/"
	@echo "make pdf-nosolutions  - PDFs of the book without solutions, in _build/pdf-nosolutions/"
	@echo "make clean  - remove _build and caches (keeps .venv)"

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==26.3
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)

book: $(STAMP)
	$(JB) build . -W -n --keep-going

# ruff on everything that is Python; import-linter enforces regcode's layers (pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check regcode tests book scripts benchmarks
	$(BIN)/ruff format --check regcode tests scripts benchmarks
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_docstrings.py

# pytest exits 5 when it collects nothing: that is a broken suite, so say so and fail.
unit: $(STAMP)
	$(BIN)/python -m pytest -p no:nbval tests --doctest-modules regcode -m "not browser and not portability"; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; fi; exit $$rc

# REGCODE_STRICT_CHECKS=1: a claim of the prose that the results contradict fails its cell
# (regcode.book.check); in a reader's session it only prints a note.
# Two chapters at a time (pytest-xdist; --dist loadfile keeps each notebook in one kernel): a chapter
# leaves a core idle while its own process draws figures, and the other chapter fills it. Outputs do
# not depend on it; NBVAL_JOBS=0 runs the chapters one after the other.
NBVAL_JOBS ?= 2
NBVAL_PARALLEL := $(if $(filter 0,$(NBVAL_JOBS)),,-n $(NBVAL_JOBS) --dist loadfile)
nbval: $(STAMP)
	$(BIN)/python scripts/blas_info.py
	REGCODE_STRICT_CHECKS=1 $(BIN)/python -m pytest $(NBVAL) $(NBVAL_PARALLEL) $(CHAPTERS) -p no:randomly

# Re-execute chapters top to bottom in a fresh kernel and store their outputs.
NB ?= $(CHAPTERS)
execute: $(STAMP)
	for nb in $(NB); do REGCODE_STRICT_CHECKS=1 $(BIN)/jupyter execute --inplace $$nb || exit 1; done

# The promise of the book: every stored output reproduces under other BLAS kernels (other
# summation orders), with 2 threads, and with numpy's own AVX-512/AVX2 code paths switched off;
# and every chapter runs to its end with other seeds. blas_info.py (run by nbval) fails if the
# requested kernel, thread count or numpy code path is not the one in use.
NO_AVX512 := X86_V4 AVX512_ICL AVX512_SPR
test-portability: $(STAMP)
	OPENBLAS_CORETYPE=Sandybridge NPY_DISABLE_CPU_FEATURES="X86_V3 $(NO_AVX512)" \
		$(MAKE) --no-print-directory nbval nbval-labs OPENBLAS_NUM_THREADS=1
	OPENBLAS_CORETYPE=Haswell NPY_DISABLE_CPU_FEATURES="$(NO_AVX512)" \
		$(MAKE) --no-print-directory nbval nbval-labs OPENBLAS_NUM_THREADS=2
	$(MAKE) --no-print-directory nbval nbval-labs OPENBLAS_NUM_THREADS=2
	$(BIN)/python -m pytest -p no:nbval tests/portability -m portability

build-check: $(STAMP)
	rm -rf _build/html
	$(JB) build . -W -n --keep-going

# build-check first: tests/book/test_publishing.py compares the book without solutions with it
# (and builds it itself when run alone).
test: lint build-check unit nbval nbval-labs

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

# The student zip as a student runs it: a fresh venv (python3 -m venv) with only the zip's
# requirements.txt, each chapter executed offline from the unzipped folder.
test-student-zip: notebooks
	$(BIN)/python scripts/check_student_zip.py --python $(PYTHON)

book-nosolutions: $(STAMP)
	$(BIN)/python scripts/build_nosolutions.py

# Plain notebooks (instructor variant: every figure inline, solutions collapsed); lab-source opens
# the MyST sources that authors edit. (--allow-root: containers often run as root.)
lab: $(STAMP)
	$(BIN)/python scripts/convert_notebooks.py --variant instructors
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) _build/notebooks/instructors

lab-source: $(STAMP)
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) book/

# The labs: instructor versions (reference solutions between nbgrader's markers, committed with
# outputs) and the student versions that the book shows, built from them by nbgrader.
LABS := $(sort $(wildcard book/labs/instructor/lab*.ipynb))
labs: $(STAMP)
	$(BIN)/python scripts/labs.py execute
	$(BIN)/python scripts/labs.py build

nbval-labs: $(STAMP)
	REGCODE_STRICT_CHECKS=1 $(BIN)/python -m pytest $(NBVAL) $(NBVAL_PARALLEL) $(LABS) -p no:randomly

# make grade SUBMISSIONS=folder [GRADES=file.csv] [GRADE_TIMEOUT=seconds per cell]
GRADES ?= _build/labs/grades.csv
GRADE_TIMEOUT ?= 120
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder [GRADES=$(GRADES)]"; exit 2; }
	$(BIN)/python scripts/labs.py grade "$(SUBMISSIONS)" --csv "$(GRADES)" --timeout $(GRADE_TIMEOUT)

figures: $(STAMP)
	$(BIN)/python scripts/make_figures.py

# The book without solutions, printed (with bookmarks) into _build/pdf-nosolutions/.
pdf-nosolutions: $(STAMP)
	$(BIN)/python scripts/build_nosolutions.py
	$(BIN)/python scripts/make_pdf.py --nosolutions

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
