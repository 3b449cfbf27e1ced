# Offramp: `make up` runs the whole system on this machine; `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PACKAGES := contracts lib/servicekit services/intake services/casework services/notify services/audit services/outcomes services/console deploy/devstack
PYPROJECTS := $(addsuffix /pyproject.toml,$(PACKAGES))

.PHONY: install up down status mail token verify demo test browser bench lint contracts clean

install: $(STAMP)

# Reinstalled whenever the pins or a package's metadata change. The project's own packages are
# built with the venv's pinned setuptools: an isolated build environment for each of them would
# fetch and install setuptools nine times over (about half the install's time).
$(STAMP): constraints.txt requirements-dev.txt $(PYPROJECTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt setuptools
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-build-isolation \
		-c constraints.txt -r requirements-dev.txt $(addprefix -e ,$(PACKAGES))
	@touch $(STAMP)

up: install
	$(BIN)/offramp-dev up

down:
	@if [ -x $(BIN)/offramp-dev ]; then $(BIN)/offramp-dev down; else echo "nothing to stop"; fi

status: install
	$(BIN)/offramp-dev status

# A bearer token for the README's person holding ROLE (officer, case_manager, supervisor, ...).
token: install
	@$(BIN)/offramp-dev token $(ROLE)

# Walk the ledger's whole chain and every checkpoint; exit 1 if anything was altered.
verify: install
	$(BIN)/offramp-audit verify

# A small living programme, loaded through the services' HTTP APIs as the README's people.
demo: install
	$(BIN)/offramp-dev demo

# The e-mail notify sent, as the local mail sink received it (add FULL=1 for the texts).
mail: install
	$(BIN)/offramp-dev mail $(if $(FULL),--full)

# Two test processes, one a core, each with its own servers; a test file stays in one process,
# since some start servers or a whole system once per file. The fuzz runs beside them in a third
# process of its own (schemathesis' generated tests are not expanded under xdist, and its coverage
# test would say so); its output is kept in FUZZ_LOG and printed once the others are done.
# The console's browser tests photograph its pages at phone and desktop size into SCREENSHOTS,
# named at the end whether the run passed or not.
SCREENSHOTS := $(CURDIR)/.offramp/screenshots
FUZZ_LOG    := $(CURDIR)/.offramp/fuzz.log
test: install browser
	@mkdir -p $(dir $(FUZZ_LOG)); status=0; \
	$(BIN)/python -m pytest tests/fuzz > $(FUZZ_LOG) 2>&1 & fuzz=$$!; \
	OFFRAMP_SCREENSHOTS_DIR=$(SCREENSHOTS) $(BIN)/python -m pytest -n 2 --dist loadfile --ignore=tests/fuzz || status=$$?; \
	echo "The fuzz of every endpoint (tests/fuzz, output also in $(FUZZ_LOG)):"; \
	wait $$fuzz || status=$$?; \
	cat $(FUZZ_LOG); \
	echo "Screenshots of the console's pages (360x740 and 1280x800): $(SCREENSHOTS)/"; \
	exit $$status

# Debian's chromium drives the console's browser tests: Playwright's own browser download needs
# a network this project does not have. Installed when missing (CI runs as root).
browser:
	@test -x /usr/bin/chromium || { \
		echo "Installing Debian's chromium for the console's browser tests..."; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; }

# Benchmarks against raw baselines, not part of `make test`: `make bench SIZE=full` for the
# sizes the README quotes, `make bench SIZE=smoke` to check that they all still run,
# `make bench BENCH=intake_http` for one of them.
SIZE  ?= quick
BENCH ?=
bench: install
	$(BIN)/python -m bench --size $(SIZE) $(BENCH)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Re-export the JSON Schemas and the AsyncAPI document from the contracts.
contracts: install
	$(BIN)/offramp-contracts export contracts/schemas

clean: down
	rm -rf $(VENV)
