# Oyat assistant. `make run` starts the whole stack, `make test` runs every test;
# both set up what they need first (virtualenv, model) and skip what is up to date.
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# npm writes this file on every install: newer than the lock file means up to date.
NODE_MODULES := node_modules/.package-lock.json

.PHONY: stats export-training help venv system-packages train run test lint bench chat phone validate eval clean .env privacy-purge privacy-export privacy-erase image image-test

help:
	@echo "make run       start the whole stack on localhost (trains the model first if needed)"
	@echo "make test      run every test (the lint gate first)"
	@echo "make lint      the lint gate: ruff, rules in pyproject.toml"
	@echo "make train     train the model if the data changed"
	@echo "make chat      talk to the assistant in the terminal (needs 'make run' in another terminal)"
	@echo "make phone     call the assistant's telephone line from the terminal (needs 'make run'; CALLER=0698765432, GATEWAY=jambonz or audiocodes)"
	@echo "make validate  check the training data and the domain"
	@echo "make eval      NLU on the held-out sets (tests/nlu): right intent first, among the first two, F1"
	@echo "make bench     latency, throughput, memory and training time (results/bench.json, .png); BENCH='--help' for options"
	@echo "make image     the container image (podman; base from Debian's packages: deploy/image/)"
	@echo "make image-test start the image's processes and talk French to it (after make image)"
	@echo "make stats     figures per day and channel as CSV (OUT=file.csv); stored for the console's « Statistiques »"
	@echo "make export-training  messages reviewed in the console (« À revoir ») as NLU YAML: data/nlu/reviewed.yml"
	@echo "make privacy-purge                      delete conversations past CONVERSATION_RETENTION_DAYS (90)"
	@echo "make privacy-export CUSTOMER=10000001   everything about one customer, as JSON"
	@echo "make privacy-erase CUSTOMER=10000001    erase one customer's data (what the law allows)"

$(INSTALLED): requirements.txt constraints.txt scripts/venv.sh
	@bash scripts/venv.sh $(VENV)
	@touch $@

$(NODE_MODULES): package.json package-lock.json
	@npm ci --no-audit --no-fund --loglevel=error

system-packages:
	@bash scripts/system_packages.sh

venv: $(INSTALLED)

.env:
	@PYTHON=$(PYTHON) bash scripts/dotenv.sh

train: $(INSTALLED)
	@bash scripts/train.sh >/dev/null

validate: $(INSTALLED)
	$(VENV)/bin/rasa data validate --config config.yml --domain domain --data data

run: $(INSTALLED) $(NODE_MODULES) .env
	@bash scripts/run.sh

chat: $(INSTALLED)
	@$(PYTHON) -m devtools.terminal_chat $(if $(CUSTOMER),--customer $(CUSTOMER))

# The voice gateway simulated: typed lines are speech, #1 a key, an empty line silence.
phone: $(INSTALLED) .env
	@$(PYTHON) -m devtools.phone_simulator $(if $(CALLER),--caller "$(CALLER)") $(if $(GATEWAY),--gateway "$(GATEWAY)")

test: $(INSTALLED) $(NODE_MODULES) system-packages
	@bash scripts/test.sh

lint: $(INSTALLED)
	@$(VENV)/bin/ruff check .

# Default: make run's configuration, then the production one with one and two Rasa
# replicas (README.md, "Benchmark"). Other runs: make bench BENCH="--stack default".
BENCH ?= --stack default production --replicas 1 2
bench: $(INSTALLED) system-packages
	@$(PYTHON) -m bench $(BENCH)

# The container image (Dockerfile; README, "Container image"). Not part of make test:
# it downloads the dependencies again and takes minutes.
image: $(INSTALLED)
	@bash scripts/system_packages.sh deploy/image/system-packages.txt
	@PYTHON=$(PYTHON) bash deploy/image/build.sh

image-test: $(INSTALLED)
	@bash scripts/system_packages.sh deploy/image/system-packages.txt
	@PYTHON=$(PYTHON) bash deploy/image/smoke_test.sh

clean:
	rm -rf models/*.tar.gz .pytest_cache

# Retention and data-protection requests (operations/privacy.py; README, "Personal data").
privacy-purge: $(INSTALLED)
	@$(PYTHON) -m operations.cli privacy purge

privacy-export privacy-erase: $(INSTALLED)
	@test -n "$(CUSTOMER)" || { echo "usage: make $@ CUSTOMER=<customer id>"; exit 2; }
	@$(PYTHON) -m operations.cli privacy $(subst privacy-,,$@) "$(CUSTOMER)"

# NLU quality on the held-out sets of tests/nlu (never used for training): short
# messages (heldout.yml) and long ones as customers write them (narrative.yml); right
# intent first and among the first two, accuracy, F1, entities (scripts/nlu_report.py).
eval: $(INSTALLED)
	@model=$$(bash scripts/train.sh) && rm -rf results/nlu && mkdir -p results/nlu && \
	$(PYTHON) scripts/nlu_report.py --model "$$model" --out results/nlu tests/nlu/heldout.yml tests/nlu/narrative.yml \
	  2>results/nlu.log || { tail -30 results/nlu.log; exit 1; }; \
	echo "reports and confusion matrices: results/nlu/<set>/"

# The business's figures from the stored conversations (operations/analytics.py): CSV on
# the standard output (or OUT=file.csv), stored with the messages to review for the
# console's « Statistiques » and « À revoir » pages (README, "Statistics and review").
stats: $(INSTALLED)
	@$(PYTHON) -m operations.cli analytics $(if $(OUT),--out "$(OUT)")

# The messages reviewed in the console, as NLU training data for a pull request
# (masked, deduplicated, never a sentence of tests/nlu); then `make eval`.
export-training: $(INSTALLED)
	@$(PYTHON) -m operations.cli training export $(if $(OUT),--out "$(OUT)")
