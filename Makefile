# The README's two commands: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install setup clean-var browser

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

install: $(STAMP)

# Prepare the embedded default: database, static files, presets, demo account, schedules.
setup: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py load_presets
	$(PY) manage.py create_demo_account
	$(PY) manage.py setup_schedules

# The product on http://127.0.0.1:8000: the task cluster and the web server; Ctrl-C stops both.
run: setup
	@bin/serve

# The browser tests drive Debian's Chromium through Playwright (Playwright's own browser download
# cannot work here): installed where missing; without it they fail in CI and are skipped elsewhere.
CHROMIUM ?= /usr/lib/chromium/chromium
browser:
	@test -x $(CHROMIUM) || apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 \
		|| (apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends chromium >/dev/null 2>&1) \
		|| echo "Chromium is not installed and could not be installed here: the browser tests will say so"

test: $(STAMP) browser
	$(PY) -m pytest

# Removes the embedded default's database, outputs and jobs (asks nothing: be sure).
clean-var:
	rm -rf var
