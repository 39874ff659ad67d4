# Two commands for users: `make run` (everything + terminal chat) and `make test` (every test).
# Both create what they need (system packages, two venvs, the trained model) and reuse it.
SHELL := /bin/bash
.DEFAULT_GOAL := run

PY310 ?= $(shell scripts/find-python.sh 3.10)
PY311 ?= $(shell scripts/find-python.sh 3.11)
RASA_VENV := .venv-rasa
APP_VENV := .venv
RASA := PYTHONWARNINGS=ignore $(RASA_VENV)/bin/rasa
PYTHON := $(APP_VENV)/bin/python
MODEL := models/frontline.tar.gz
# The responses are built from the per-language texts (bot/texts/<lang>.yml) into a data file of their own.
RESPONSES := var/rasa-data/responses.yml
RASA_DATA := bot/data $(dir $(RESPONSES))
TRAINING_INPUTS := config.yml domain.yml bot/nlu/components.py core/textnorm.py core/digits.py $(RESPONSES) $(shell find bot/data -name '*.yml' 2>/dev/null)
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
# Rasa would otherwise send usage data and error reports to its vendor: customers' data stays here.
export RASA_TELEMETRY_ENABLED := false

.PHONY: run serve test setup system-packages model validate rasa-test pytest lint bench clean

run: setup $(MODEL) ## the whole front line with a terminal chat
	$(PYTHON) -m app.launcher run

serve: setup $(MODEL) ## the same services in the foreground, no chat (deployment, benchmarks)
	$(PYTHON) -m app.launcher serve

test: setup $(MODEL) lint validate rasa-test pytest ## every test (lint included)

setup: system-packages $(RASA_VENV)/.installed $(APP_VENV)/.installed

system-packages:
	@bash scripts/system-packages.sh $(if $(filter test,$(MAKECMDGOALS)),test,run)

$(RASA_VENV)/.installed: requirements/rasa.lock
	@if [ -z "$(PY310)" ]; then \
	  echo "Rasa 3.6 needs Python 3.10, which is not on this machine." >&2; \
	  echo "Install it (pyenv install 3.10, or your distribution's python3.10 + python3.10-venv)," >&2; \
	  echo "then run make again, or point to it: make PY310=/path/to/python3.10" >&2; exit 1; fi
	@echo "Creating $(RASA_VENV) (Rasa 3.6.21, about 2.7 GB; a few minutes the first time) ..."
	$(PY310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install --progress-bar on -r requirements/rasa.lock
	touch $@

$(APP_VENV)/.installed: requirements/app.lock
	@if [ -z "$(PY311)" ]; then echo "Python 3.11 is needed for the front line: install python3.11 (or make PY311=...)" >&2; exit 1; fi
	@echo "Creating $(APP_VENV) (front line, action server, tests) ..."
	$(PY311) -m venv $(APP_VENV)
	$(APP_VENV)/bin/pip install --progress-bar on -r requirements/app.lock
	touch $@

model: $(MODEL) ## train only when data, domain or config changed

$(RESPONSES): bot/responses.py $(wildcard bot/texts/*.yml) | $(APP_VENV)/.installed
	$(PYTHON) -m bot.responses $@

$(MODEL): $(TRAINING_INPUTS) | $(RASA_VENV)/.installed
	@echo "Training the Rasa model (a few minutes; reused until data, domain or config change) ..."
	$(RASA) train --data $(RASA_DATA) --domain domain.yml --config config.yml --out models --fixed-model-name frontline
	touch $@

validate: $(RASA_VENV)/.installed $(RESPONSES)
	$(RASA) data validate --data $(RASA_DATA) --domain domain.yml --config config.yml

rasa-test: $(MODEL)
	$(RASA) test core --model $(MODEL) --stories tests/rasa --endpoints endpoints.yml --out var/rasa-test --fail-on-prediction-errors

pytest: $(APP_VENV)/.installed $(MODEL)
	$(PYTHON) -m pytest

lint: $(APP_VENV)/.installed ## ruff, and the layer contracts in pyproject.toml (import-linter)
	$(APP_VENV)/bin/ruff check . && $(APP_VENV)/bin/ruff format --check .
	$(APP_VENV)/bin/lint-imports

bench: setup $(MODEL) ## latency and memory figures, written to bench/results/
	$(PYTHON) -m bench.chat_turns --db sqlite
	$(PYTHON) -m bench.chat_turns --db postgresql
	$(PYTHON) -m bench.app_memory
	$(PYTHON) -m bench.handoff
	$(PYTHON) -m bench.telegram
	$(PYTHON) -m bench.telegram_recovery
	$(PYTHON) -m bench.ivr
	$(PYTHON) -m bench.sip_flood
	$(PYTHON) -m bench.nlu_languages
	$(PYTHON) -m bench.login_flood
	$(PYTHON) -m bench.crash_turns --db sqlite
	$(PYTHON) -m bench.crash_turns --db postgresql

clean:
	rm -rf var models .rasa
