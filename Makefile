# Everyday commands. Every target sets up .venv from requirements.lock first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# dvc.yaml's commands call `python -m bnlab`: put the venv first on PATH.
export PATH := $(BIN):$(PATH)

UI_PORT ?= 5000
SERVE_PORT ?= 5002
MODEL ?= bn-circles@best

.PHONY: help venv repro extensions networks test test-fast lint format clean lock ui serve

help:
	@echo "make repro      set up .venv and run the whole pipeline (dvc repro)"
	@echo "make extensions the tutorial's extensions against the study: reports/extensions.md"
	@echo "make networks   the tutorial's CNN and LSTM on digits: reports/networks.md"
	@echo "make test       run every test (unit and end-to-end)"
	@echo "make test-fast  run the fast tests only"
	@echo "make ui         MLflow UI on http://127.0.0.1:$(UI_PORT) over ./mlflow.db"
	@echo "make serve      serve models:/$(MODEL) on http://127.0.0.1:$(SERVE_PORT)/invocations"
	@echo "make lint       ruff check and format check"
	@echo "make format     ruff format and autofix"
	@echo "make clean      remove pipeline outputs and caches (keeps .venv and .dvc/cache)"
	@echo "make lock       re-resolve requirements.lock from pyproject.toml"

# The stamp is named after what was installed, not dated: a git checkout gives
# files new times, and an unchanged lock file should not reinstall anything.
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | md5sum | cut -c1-16)

venv: $(STAMP)

$(STAMP):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed*
	touch $@

repro: venv
	dvc repro

# Its own pipeline: runs the study's stages it needs first (cached after make repro).
extensions: venv
	dvc repro extensions/dvc.yaml

# Its own pipeline too, which needs nothing of the study's.
networks: venv
	dvc repro networks/dvc.yaml

# Two workers, a test file each at a time: the end-to-end tests wait on
# subprocesses and servers as much as they compute.
test: venv
	python -m pytest -n 2 --dist loadfile --durations=15

test-fast: venv
	python -m pytest -m "not slow" --durations=5

# Serves on the loopback address only.
ui: venv
	mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlflow.db \
		--host 127.0.0.1 --port $(UI_PORT) --workers 1

# The registered model from ./mlflow.db (or MLFLOW_TRACKING_URI), in this .venv.
serve: venv
	MLFLOW_TRACKING_URI=$${MLFLOW_TRACKING_URI:-sqlite:///$(CURDIR)/mlflow.db} \
		mlflow models serve -m models:/$(MODEL) --env-manager local \
		--host 127.0.0.1 --port $(SERVE_PORT)

lint: venv
	ruff check src tests scripts
	ruff format --check src tests scripts

format: venv
	ruff format src tests scripts
	ruff check --fix src tests scripts

clean:
	rm -rf data/raw data/prepared data/digits configs models results metrics figures reports
	rm -rf extensions/configs extensions/models extensions/results
	rm -rf networks/configs networks/models networks/results
	rm -rf .pytest_cache .ruff_cache
	find src tests -name __pycache__ -type d -exec rm -rf {} +

lock:
	rm -rf /tmp/bnlab-lock && $(PYTHON) -m venv /tmp/bnlab-lock
	/tmp/bnlab-lock/bin/python -m pip install --quiet ".[dev]"
	/tmp/bnlab-lock/bin/python -m pip freeze --exclude-editable | grep -v '^bnlab' > requirements.lock
