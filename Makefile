# Two commands do all set-up: `make demo` and `make test`. Both are safe to run twice.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-unit bench kafka-jars browser shippers clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

kafka-jars: $(STAMP)
	$(BIN)/vigil kafka fetch

## Debian's Chromium for the dashboard's browser test (Playwright drives it; it downloads no browser of its own).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

## Debian's kcat and rsyslog with its Kafka output: the real log shippers the source tests write with.
shippers:
	@{ command -v kcat && test -e /usr/lib/x86_64-linux-gnu/rsyslog/omkafka.so; } >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq kcat rsyslog rsyslog-kafka; }

## The main job: Kafka 4 + a worker + a simulated organisation, then the riskiest users.
demo: kafka-jars
	$(BIN)/vigil demo

## Every test, the integration tests on a real broker included (started and stopped by the tests).
test: kafka-jars browser shippers
	$(BIN)/pytest

test-unit: $(STAMP)
	$(BIN)/pytest -m "not integration"

## The pipeline benchmark with its Faust and Quix Streams ceilings (docs/benchmarks.md); ARGS="--rate 5000 ..."
bench: kafka-jars
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/vigil bench $(ARGS)

clean:
	rm -rf $(VENV) .vigil
