# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= results

.PHONY: setup qt-libs demo test bench lint clean

# torch==2.13.0 and torchvision==0.28.0 first: they resolve to the local CPU
# build here; installed later (via norse) they would pull GB of CUDA wheels.
# sPyMem 0.0.9 and sPyBlocks 0.0.1 (the CA3 / hippocampus authors' PyNN models, run by the tests) name
# sPyNNaker as a dependency, which the [spinnaker] extra already installs: --no-deps.
# PyNN's source distribution holds its system scenarios (test/system/scenarios), which the tests run
# with neurosim.pynn: kept in $(VENV)/share, nothing of it copied into the repository.
PYNN_SDIST := $(VENV)/share/pynn-0.13.0.tar.gz
$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q torch==2.13.0 torchvision==0.28.0
	$(BIN)/python -m pip install -q -e '.[all]'
	$(BIN)/python -m pip install -q --no-deps sPyMem==0.0.9 sPyBlocks==0.0.1
	mkdir -p $(VENV)/share
	$(BIN)/python -m pip download -q --no-deps --no-binary :all: -d $(VENV)/share PyNN==0.13.0
	touch $(STAMP)

setup: $(STAMP)

# Qt (the viewer and its offscreen tests) loads these system libraries, which a bare
# Debian image may lack: installed with apt-get only when PySide6 cannot load without them.
QT_DEBS := libegl1 libgl1 libxkbcommon0 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0
qt-libs: $(STAMP)
	@$(BIN)/python -c "import PySide6.QtWidgets" 2>/dev/null || { \
	  echo "installing the system libraries Qt needs: $(QT_DEBS)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(QT_DEBS) && \
	  $(BIN)/python -c "import PySide6.QtWidgets"; }

demo: $(STAMP)
	$(BIN)/neurosim run ca3-functional --out $(OUT)/ca3-functional.h5 --force

# pytest exits 5 when it collects no test: that is not a failure of the suite.
test: $(STAMP) qt-libs
	$(BIN)/ruff check .
	NEUROSIM_PYNN_SDIST=$(PYNN_SDIST) $(BIN)/python -m pytest -q; rc=$$?; if [ $$rc -eq 5 ]; then exit 0; fi; exit $$rc

bench: $(STAMP)
	$(BIN)/neurosim bench core

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) results build *.egg-info
