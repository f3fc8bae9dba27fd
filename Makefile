# kpeval set-up and checks. Two commands do everything on a fresh machine:
#   make run   — installs what is missing, builds, runs the main job on the bundled sample
#   make test  — installs what is missing, builds, runs the whole test suite
# libtorch (PyPI torch==2.4.0 with its CUDA runtime wheels, ~5 GB) is installed once per machine
# under $(KPEVAL_CACHE) and shared by every clone through the `.libtorch` link.
KPEVAL_CACHE ?= $(HOME)/.cache/kpeval
PYTHON ?= python3
TORCH_ENV := $(KPEVAL_CACHE)/torch-2.4.0
CARGO ?= cargo
export KPEVAL_CACHE

.PHONY: setup libtorch models browser build run test lint bench clean-store fit-kp-cover fuzz python-test slurm-test

setup: libtorch models

libtorch:
	@if [ ! -f "$(TORCH_ENV)/.complete" ]; then \
	  echo "installing libtorch (PyPI torch==2.4.0) into $(TORCH_ENV)"; \
	  mkdir -p "$(KPEVAL_CACHE)" && rm -rf "$(TORCH_ENV)" && \
	  if $(PYTHON) -m venv "$(TORCH_ENV)" 2>/dev/null; then \
	    "$(TORCH_ENV)/bin/python" -m pip install -q --disable-pip-version-check torch==2.4.0; \
	  else \
	    $(PYTHON) -m pip install -q --disable-pip-version-check --target "$(TORCH_ENV)/site-packages" torch==2.4.0; \
	  fi && touch "$(TORCH_ENV)/.complete"; \
	fi
	@t=$$(ls -d "$(TORCH_ENV)"/lib/python3*/site-packages/torch "$(TORCH_ENV)"/site-packages/torch 2>/dev/null | head -1); \
	  test -f "$$t/lib/libtorch.so" || { echo "error: libtorch.so not found under $(TORCH_ENV); remove it and rerun" >&2; exit 1; }; \
	  [ "$$(readlink .libtorch)" = "$$t" ] || ln -sfn "$$t" .libtorch

models:
	@$(PYTHON) models/install.py

build: setup
	$(CARGO) build --release --workspace --locked

run: build
	./target/release/kpeval run eval/articles/venezuela-drug-talks.txt -o results/sample.jsonl

# The HTML report test renders in Debian's chromium.
browser:
	@command -v chromium >/dev/null 2>&1 || test -x "$$KPEVAL_CHROMIUM" || { \
	  echo "installing Debian's chromium for the HTML report test"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

test: build browser
	$(CARGO) test --release --workspace --locked

# Habits CI keeps: formatting (rustfmt.toml), clippy without warnings, rustdoc without warnings
# (every public item documented). The vendored rust-bert is not a workspace member: not linted.
PACKAGES := -p kpeval -p kpeval-cli -p kpeval-torch
lint: setup
	$(CARGO) fmt $(PACKAGES) --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --locked

# The Python package (python/, not a workspace member: its own lock file and python/target; no
# libtorch): a venv under $(KPEVAL_CACHE)/py-venv (kept between runs), the references it is
# tested against, `pip install ./python` (maturin builds the extension), then its pytest suite.
# The meta-eval test uses target/release/kpeval when `make build` has made it (else skipped).
PY_VENV := $(KPEVAL_CACHE)/py-venv
python-test:
	@test -x "$(PY_VENV)/bin/python" || { mkdir -p "$(KPEVAL_CACHE)" && $(PYTHON) -m venv "$(PY_VENV)"; }
	"$(PY_VENV)/bin/python" -m pip install -q --disable-pip-version-check maturin pytest rouge-score==0.1.2 sacrebleu==2.6.0 pandas evaluate
	"$(PY_VENV)/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps ./python
	"$(PY_VENV)/bin/pytest" -q -p no:cacheprovider python/tests

# The README's Slurm array-job recipe run for real (eval/slurm/): a one-node Slurm cluster on this
# machine (Debian's slurm-wlm and munge, installed when missing: root or sudo), an array of
# `kpeval run --shard i/4 --resume` tasks whose merge must equal one unsharded run (records and
# aggregate), also after one task is killed with scancel and resubmitted. Overlap metrics only:
# no model. The daemons are stopped afterwards (SLURM_KEEP=1 leaves them running).
slurm-test: build
	rc=0; eval/slurm/start-slurm.sh && KPEVAL=$(CURDIR)/target/release/kpeval eval/slurm/run-array-test.sh || rc=$$?; \
	  [ -n "$(SLURM_KEEP)" ] || eval/slurm/stop-slurm.sh; exit $$rc

# Benchmarks (not tests): each prints kpeval/reference ratios measured in the same run.
bench: build
	$(PYTHON) eval/bench/overlap.py
	$(TORCH_ENV)/bin/python eval/bench/embed.py
	$(TORCH_ENV)/bin/python eval/bench/generate.py
	$(PYTHON) eval/bench/coverage.py

# The coverage judge (kp-cover): refit models/kp-cover.json on PyrXSum's per-unit human verdicts
# (../shared/data/pyrxsum-1000.jsonl), 10-fold cross-validation by document. numpy only.
FIT_ENV := $(KPEVAL_CACHE)/fit-venv
KP_COVER_FEATURES ?= tok_q10,ent_all,rec1_content
KP_COVER_VERSION ?= 2
fit-kp-cover: build
	@test -x "$(FIT_ENV)/bin/python" || { $(PYTHON) -m venv "$(FIT_ENV)" && "$(FIT_ENV)/bin/pip" install -q --disable-pip-version-check numpy; }
	mkdir -p results
	./target/release/kpeval score ../shared/data/pyrxsum-1000.jsonl --metrics kp-cover --kp-cover-features -q -o results/pyrxsum-features.jsonl
	"$(FIT_ENV)/bin/python" eval/coverage/fit_kp_cover.py results/pyrxsum-features.jsonl --features $(KP_COVER_FEATURES) --version $(KP_COVER_VERSION) --write-preset models/kp-cover.json

# Property tests with 1,000,000 cases each (the default suite runs a quick pass).
fuzz: build
	PROPTEST_CASES=1000000 $(CARGO) test --release --locked --test properties -- --test-threads 2
