# Oyat assistant. `make run` starts the whole stack, `make test` runs every test;
# both set up what they need first (virtualenv, model) and skip what is up to date.
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# npm writes this file on every install: newer than the lock file means up to date.
NODE_MODULES := node_modules/.package-lock.json

.PHONY: help venv system-packages train run test bench chat phone validate eval clean .env privacy-purge privacy-export privacy-erase

help:
	@echo "make run       start the whole stack on localhost (trains the model first if needed)"
	@echo "make test      run every test"
	@echo "make train     train the model if the data changed"
	@echo "make chat      talk to the assistant in the terminal (needs 'make run' in another terminal)"
	@echo "make phone     call the assistant's telephone line from the terminal (needs 'make run'; CALLER=0698765432)"
	@echo "make validate  check the training data and the domain"
	@echo "make eval      NLU on the held-out sets (tests/nlu): right intent first, among the first two, F1"
	@echo "make bench     latency, throughput, memory and training time (results/bench.json, .png); BENCH='--help' for options"
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
	@$(PYTHON) -m connectors.terminal_chat $(if $(CUSTOMER),--customer $(CUSTOMER))

# The voice gateway simulated: typed lines are speech, #1 a key, an empty line silence.
phone: $(INSTALLED) .env
	@$(PYTHON) -m connectors.phone_simulator $(if $(CALLER),--caller "$(CALLER)")

test: $(INSTALLED) $(NODE_MODULES) system-packages
	@bash scripts/test.sh

# Default: make run's configuration, then the production one with one and two Rasa
# replicas (README.md, "Benchmark"). Other runs: make bench BENCH="--stack default".
BENCH ?= --stack default production --replicas 1 2
bench: $(INSTALLED) system-packages
	@$(PYTHON) -m bench $(BENCH)

clean:
	rm -rf models/*.tar.gz .pytest_cache

# Retention and data-protection requests (bot/privacy.py; README, "Personal data").
privacy-purge: $(INSTALLED)
	@$(PYTHON) -m bot.cli privacy purge

privacy-export privacy-erase: $(INSTALLED)
	@test -n "$(CUSTOMER)" || { echo "usage: make $@ CUSTOMER=<customer id>"; exit 2; }
	@$(PYTHON) -m bot.cli privacy $(subst privacy-,,$@) "$(CUSTOMER)"

# NLU quality on the held-out sets of tests/nlu (never used for training): short
# messages (heldout.yml) and long ones as customers write them (narrative.yml); right
# intent first and among the first two, accuracy, F1, entities (scripts/nlu_report.py).
eval: $(INSTALLED)
	@model=$$(bash scripts/train.sh) && rm -rf results/nlu && mkdir -p results/nlu && \
	$(PYTHON) scripts/nlu_report.py --model "$$model" --out results/nlu tests/nlu/heldout.yml tests/nlu/narrative.yml \
	  2>results/nlu.log || { tail -30 results/nlu.log; exit 1; }; \
	echo "reports and confusion matrices: results/nlu/<set>/"
