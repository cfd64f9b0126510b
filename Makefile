# dualgrid — the two set-up commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
DEMO_PASSWORD ?= demo1234
PYTEST_ARGS ?=

.PHONY: run test venv assets db demo serve worker lint clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

venv: $(BIN)/.installed

# Idempotent and quick when nothing changed: npm ci only when node_modules is older than the lock.
assets: venv
	$(BIN)/python scripts/build_assets.py

db: venv
	$(BIN)/dualgrid migrate --noinput -v0

demo: db
	$(BIN)/dualgrid demo --password $(DEMO_PASSWORD)

# Everything on a fresh machine: virtualenv, dependencies, front-end assets, database, demo data,
# then the background worker and the production server on http://$(HOST):$(PORT).
run: assets demo
	$(BIN)/dualgrid collectstatic --noinput -v0
	@echo "dualgrid: http://$(HOST):$(PORT)/  (居民上报 /report/ · 进度查询 /track/ · 管理后台 /admin/ · 接口文档 /api/v1/docs)"
	@$(BIN)/dualgrid worker & worker=$$!; trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
		$(BIN)/dualgrid serve --host $(HOST) --port $(PORT)

serve: assets db
	$(BIN)/dualgrid collectstatic --noinput -v0
	$(BIN)/dualgrid serve --host $(HOST) --port $(PORT)

worker: db
	$(BIN)/dualgrid worker

# The whole suite: unit, API, page and browser tests. DATABASE_URL selects PostgreSQL.
test: assets
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/python -m mypy dualgrid
	$(BIN)/dualgrid makemigrations --check --dry-run

clean:
	rm -rf $(VENV) node_modules dualgrid/static/vendor var
