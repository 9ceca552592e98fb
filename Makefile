# sqis: every target creates the virtual environment when it is missing.
# `make demo` and `make test` are all a fresh machine needs.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DATA ?= demo-data
DEMO_OUT ?= out
DEMO_YEARS ?= 2013-14..2017-18
DEMO_STUDENTS ?= 40000
DEMO_DISTRICTS ?= 8
DEMO_ENV := var/demo.env
PYTEST_ARGS ?=

.PHONY: deps-system install demo test lint format bench golden serve deploy constraints clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# A local pseudonymisation key for the demo, created once and kept in var/demo.env.
$(DEMO_ENV):
	mkdir -p var
	umask 077; echo "SQIS_PSEUDONYM_KEY=demo-$$($(PYTHON) -c 'import secrets; print(secrets.token_hex(24))')" > $(DEMO_ENV)

demo: install $(DEMO_ENV)
	set -a; source $(DEMO_ENV); set +a; \
	export SQIS_DATABASE_URL=sqlite:///var/sqis.db; \
	first=$(firstword $(subst .., ,$(DEMO_YEARS))); last=$(lastword $(subst .., ,$(DEMO_YEARS))); \
	if [ ! -d $(DEMO_DATA)/$$last ]; then \
	  $(BIN)/sqis generate --out $(DEMO_DATA) --years $(DEMO_YEARS) --students $(DEMO_STUDENTS) \
	    --districts $(DEMO_DISTRICTS) --seed 2013 || exit 1; \
	fi; \
	before=$$($(BIN)/python -c "from sqis.years import results_year; print(results_year('$$last'))"); \
	$(BIN)/sqis cycle --data $(DEMO_DATA) --from $$first --to $$before --out $(DEMO_OUT) \
	  --db sqlite:///var/sqis.db || exit 1; \
	echo "demo: service year $$last on the calendar (decided by the $$before results)"; \
	trig=$$($(BIN)/python -c "import os, pyarrow as pa; from sqis.pseudonym import pseudonymise_educators as p; print(p(pa.array(['TRIGGERCASE1']), os.environ['SQIS_PSEUDONYM_KEY'].encode()).to_pylist()[0])"); \
	$(BIN)/sqis educator action --year $$before --educator-key $$trig --action IMPROVEMENT_PLAN \
	  --reason "demo: observations and student growth disagree" --out $(DEMO_OUT) \
	  --db sqlite:///var/sqis.db 2>/dev/null || echo "demo: the trigger case's action is recorded already (or demo-data predates the educator files: remove demo-data, var and out)"; \
	codes=$$($(BIN)/python -m sqis_cli.demo_reviews --db sqlite:///var/sqis.db --year $$last \
	  --out var/demo-reviews) || exit 1; eval "$$codes"; \
	if [ -n "$$PEER_SCHOOL" ]; then $(BIN)/sqis review priority --year $$before --school $$PEER_SCHOOL \
	  --reviewers "demo: two principals of Reward schools and a district coach" --date $${last%%-*}-10-20 \
	  --status COMPLETED --leadership "demo: a new principal; the leadership team meets weekly" \
	  --strengths "demo: attendance outreach; family engagement" --improvement "demo: math in grades 3-5" \
	  --db sqlite:///var/sqis.db 2>/dev/null || echo "demo: the Priority peer review is recorded already"; fi; \
	if [ -n "$$STEP_SCHOOL" ]; then $(BIN)/sqis review escalation --year $$before --school $$STEP_SCHOOL \
	  --step $$STEP --decision "demo: a new principal and an external turnaround partner" \
	  --date $${last%%-*}-09-15 --db sqlite:///var/sqis.db 2>/dev/null || echo "demo: the $$STEP decision is recorded already"; fi; \
	$(BIN)/sqis review district import var/demo-reviews/round1.yaml --year $$last \
	  --db sqlite:///var/sqis.db 2>/dev/null || echo "demo: the districts' peer review of $$last is recorded already"; \
	$(BIN)/sqis generate-interim --data $(DEMO_DATA) --year $$last --seed 2013 >/dev/null || exit 1; \
	for n in 1 2 3 4; do \
	  $(BIN)/sqis checkpoint --year $$last --number $$n --data $(DEMO_DATA) --out $(DEMO_OUT) || exit 1; \
	  if [ $$n = 1 ]; then $(BIN)/sqis oversight --year $$last --term fall --out $(DEMO_OUT) \
	    --db sqlite:///var/sqis.db || exit 1; \
	    $(BIN)/sqis oversight decide --year $$last --term fall --district $$REVISE_DISTRICT \
	      --decision ADDITIONAL_SUPPORT --note "demo: asked to revise its plan; support from a peer district" \
	      --db sqlite:///var/sqis.db 2>/dev/null || echo "demo: the Panel's fall decision is recorded already"; \
	    $(BIN)/sqis review district import var/demo-reviews/round2.yaml --year $$last \
	      --db sqlite:///var/sqis.db 2>/dev/null || echo "demo: district $$REVISE_DISTRICT has resubmitted already"; fi; \
	  if [ $$n = 3 ]; then $(BIN)/sqis oversight --year $$last --term spring --out $(DEMO_OUT) \
	    --db sqlite:///var/sqis.db || exit 1; fi; \
	done; \
	$(BIN)/sqis run --data $(DEMO_DATA) --year $$last --out $(DEMO_OUT) --db sqlite:///var/sqis.db || exit 1; \
	echo "demo: results in $(DEMO_OUT)/ (open $(DEMO_OUT)/$$last/index.html; the $$last calendar: $(DEMO_OUT)/$$before/); results store var/sqis.db"

# System packages the tests need (headless Chromium for tests/test_browser_reports.py).
deps-system:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium fonts-dejavu-core)

test: install deps-system
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python -m bench.run

# record the outputs' digests after a change meant to change them (tests/golden.py)
golden: install
	$(BIN)/python -m tests.golden

serve: install
	bash deployments/serve.sh

deploy: install
	bash deployments/deploy.sh

constraints: install
	{ echo "# Verified versions (python 3.11, this machine kind). Regenerate with: make constraints"; \
	  echo "# SQLAlchemy stays below 2.1: Prefect 3.8.8's scheduler cannot insert runs on 2.1 (docs/operations.md)"; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v '^sqis'; } > constraints.txt

clean:
	rm -rf $(VENV) var out demo-data .pytest_cache
