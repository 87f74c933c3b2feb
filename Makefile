# cchc: `make run` serves the Cần Thơ demo, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run serve test lint format demo clean screenshots messages

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py load_demo

run: demo
	@echo ""
	@echo "  cchc demo: http://127.0.0.1:8000/  (API: http://127.0.0.1:8000/api/v1/)"
	@echo "  admin:     http://127.0.0.1:8000/admin/"
	@echo "  logins (password 'demo' for all):"
	@DEBUG=1 $(BIN)/python manage.py demo_logins
	@echo ""
	DEBUG=1 DEMO_MODE=1 PROVINCE_NAME="Cần Thơ" PROVINCE_KIND="thành phố" $(BIN)/python manage.py runserver 127.0.0.1:8000

# The production stack: gunicorn, whitenoise, DEBUG off. Needs SECRET_KEY, ALLOWED_HOSTS and
# DATABASE_URL in the environment (see docs/deployment.md).
WORKERS ?= 3
BIND ?= 127.0.0.1:8000
serve: $(STAMP)
	@test -n "$$SECRET_KEY" || (echo "SECRET_KEY is not set (see docs/deployment.md)"; exit 1)
	@test -n "$$ALLOWED_HOSTS" || (echo "ALLOWED_HOSTS is not set (see docs/deployment.md)"; exit 1)
	$(BIN)/python manage.py check --deploy
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/gunicorn cchc.wsgi --config python:cchc.serving --preload --workers $(WORKERS) --bind $(BIND) --access-logfile - --max-requests 2000 --max-requests-jitter 200 --timeout 120

# The whole suite, one worker per core (pytest-xdist; each worker has its own test database).
PYTEST_ARGS ?= -n auto
test: $(STAMP)
	DEBUG=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

# Screenshots of the pages for docs/ (needs Debian's chromium).
screenshots: $(STAMP)
	SCREENSHOTS_DIR=docs/screenshots DEBUG=1 $(BIN)/python -m pytest tests/browser -q

# Refresh the Vietnamese catalogue after changing strings (needs gettext); commit the .po and .mo.
messages: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py makemessages -l vi --no-obsolete --ignore=.venv --ignore=scoring/demo --ignore=bench --ignore=tests
	DEBUG=1 $(BIN)/python manage.py compilemessages -l vi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 var .pytest_cache .ruff_cache .hypothesis
