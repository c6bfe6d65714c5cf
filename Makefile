# The README's two commands: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install setup clean-var

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

test: $(STAMP)
	$(PY) -m pytest

# Removes the embedded default's database, outputs and jobs (asks nothing: be sure).
clean-var:
	rm -rf var
