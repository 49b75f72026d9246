# Two commands matter: `make run` (the product) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Tests always run against the real services on localhost.
TEST_ENV := DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/later} \
            REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/0} \
            DEBUG=True

.PHONY: run test install lint check-deploy bench chromium weasyprint-deps clean

# Long steps write their whole output to var/log/ and show one progress line (later/quietly.py).
QUIETLY := $(PYTHON) later/quietly.py --log var/log/install.log
# `make run RUN_ARGS="--port 8001 --verbose"` passes options to runstack.
RUN_ARGS ?=

$(BIN)/.installed: pyproject.toml
	@$(QUIETLY) --label "Creating the virtualenv $(VENV)" -- $(PYTHON) -m venv $(VENV)
	@$(QUIETLY) --label "Updating pip" -- $(BIN)/pip install --upgrade pip
	@$(QUIETLY) --label "Installing Python packages" --count '^(Collecting|Requirement already)' --unit packages \
		-- $(BIN)/pip install --progress-bar off -e ".[dev]"
	@touch $@

install: weasyprint-deps $(BIN)/.installed

# WeasyPrint (client report PDFs) renders with Debian's Pango, HarfBuzz and fonts. Installed
# only when missing, and quietly: apt-get's output goes to the install log like pip's.
WEASYPRINT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
weasyprint-deps:
	@ldconfig -p | grep -q libpangoft2-1.0 && fc-list 2>/dev/null | grep -qi dejavu || { \
		$(QUIETLY) --label "Updating the Debian package lists" -- apt-get update -q && \
		$(QUIETLY) --label "Installing Pango and fonts for PDF reports" --count '^Setting up ' --unit packages \
			-- env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(WEASYPRINT_PACKAGES); }

run: install
	@$(BIN)/python manage.py runstack $(RUN_ARGS)

chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q chromium)

test: install chromium
	$(TEST_ENV) $(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run

check-deploy: install
	DEBUG=False SECRET_KEY=$$(head -c 48 /dev/urandom | base64) \
	TOKEN_ENCRYPTION_KEYS=$$($(BIN)/python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())") \
	ALLOWED_HOSTS=later.example.com $(BIN)/python manage.py check --deploy --fail-level WARNING

# Benchmarks create and drop their own databases on the local PostgreSQL (BENCH_PG_ADMIN_URL) and
# use the local Redis as cache and Celery broker, like the tests (never the filesystem broker).
BENCH_ENV := REDIS_URL=$${BENCH_REDIS_URL:-redis://127.0.0.1:6379/15} \
             BENCH_PG_ADMIN_URL=$${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}

bench: install
	$(BENCH_ENV) $(BIN)/python bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf var staticfiles
