# The two commands of the README's quick start:
#   make live   set up, then run the live app (the virtual plate when no plate is attached)
#   make test   set up, then run the whole test suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.midfoot-installed

.PHONY: live test setup lint bench firmware clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,interop,library]'
	touch $(STAMP)

setup: $(STAMP)

live: $(STAMP)
	$(BIN)/midfoot live

test: $(STAMP)
	$(BIN)/ruff check .
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

firmware:
	$(MAKE) -C hardware/firmware

clean:
	rm -rf $(VENV) build *.egg-info
