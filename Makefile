# datasan — build, test, demo and benchmark.
#   make demo    installs system libraries if missing, builds, cleans the bundled demo dataset
#   make test    installs system libraries if missing, builds, runs every test, then make test-asan
#   make test-asan  every test under AddressSanitizer + UndefinedBehaviorSanitizer (.build-asan)
#   make test-tsan  every test under ThreadSanitizer (.build-tsan)
#   make test-slurm datasan's job array on a one-node Slurm cluster (examples/slurm/test-slurm.sh)
#   make test-kubernetes  the Kubernetes example's pod commands, run here (examples/kubernetes)
#   make bench   benchmarks datasan against the peers of ../shared/bench (needs ../shared)

SWIFT        ?= swift
APT_PACKAGES := pkg-config libhdf5-dev zlib1g-dev libdeflate-dev liblmdb-dev libpng-dev libturbojpeg0-dev libyaml-dev \
               libbz2-dev liblzma-dev libzstd-dev
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN          := .build/release/datasan
DEMO_OUT     ?= /tmp/datasan-demo

.PHONY: all deps pydeps browser shells hdf5-static build release man test test-asan test-tsan test-slurm test-kubernetes demo bench clean

# libhdf5 is linked statically when its archive is installed (Debian's libhdf5-dev has it): the
# shared libhdf5 pulls in some 30 more libraries (libcurl, TLS, Kerberos, LDAP) whose loading cost
# every datasan command ~8 ms, more than a whole scan of a 200 MB LMDB takes on one core. The
# pkg-config file below overrides the system's hdf5.pc for this build only; without it (a plain
# `swift build`), libhdf5 is linked dynamically and everything works the same. libyaml (datasan.yml)
# is linked statically the same way when its archive is there (one shared library fewer to load).
PKGCONFIG_DIR := $(CURDIR)/.build-pkgconfig
export PKG_CONFIG_PATH := $(PKGCONFIG_DIR)$(if $(PKG_CONFIG_PATH),:$(PKG_CONFIG_PATH))

all: build

# Installs the C libraries when pkg-config cannot find them (Debian / Ubuntu).
deps:
	@if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists hdf5 lmdb libpng libturbojpeg libdeflate zlib yaml-0.1 liblzma libzstd \
	     || [ ! -f /usr/include/bzlib.h ]; then \
	  echo "installing $(APT_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES); \
	fi

hdf5-static: deps
	@mkdir -p $(PKGCONFIG_DIR); rm -f $(PKGCONFIG_DIR)/hdf5.pc; \
	libdir=$$(PKG_CONFIG_PATH= pkg-config --libs-only-L hdf5 | sed 's/^ *-L//; s/ .*//'); \
	if [ -n "$$libdir" ] && [ -f "$$libdir/libhdf5.a" ]; then \
	  printf 'Name: hdf5\nDescription: libhdf5, linked statically by datasan\nVersion: %s\nCflags: %s\nLibs: -L%s -l:libhdf5.a -lsz -lz -lm -ldl\n' \
	    "$$(PKG_CONFIG_PATH= pkg-config --modversion hdf5)" "$$(PKG_CONFIG_PATH= pkg-config --cflags hdf5)" "$$libdir" \
	    > $(PKGCONFIG_DIR)/hdf5.pc; \
	fi; \
	rm -f $(PKGCONFIG_DIR)/yaml-0.1.pc; \
	libdir=$$(PKG_CONFIG_PATH= pkg-config --variable=libdir yaml-0.1); \
	if [ -n "$$libdir" ] && [ -f "$$libdir/libyaml.a" ]; then \
	  printf 'Name: yaml-0.1\nDescription: libyaml, linked statically by datasan\nVersion: %s\nCflags: %s\nLibs: -L%s -l:libyaml.a\n' \
	    "$$(PKG_CONFIG_PATH= pkg-config --modversion yaml-0.1)" "$$(PKG_CONFIG_PATH= pkg-config --cflags yaml-0.1)" "$$libdir" \
	    > $(PKGCONFIG_DIR)/yaml-0.1.pc; \
	fi

build: deps hdf5-static
	$(SWIFT) build

# The Swift runtime and FoundationEssentials are linked statically: the binary runs without a Swift
# toolchain, and starts in ~11 ms instead of ~15 ms (dynamic loading and relocation of the Swift
# libraries), which counts when a scan itself takes 50 ms.
release: deps hdf5-static
	$(SWIFT) build -c release --static-swift-stdlib --product datasan

# The man page, man/datasan.1, from the option declarations: swift-argument-parser's
# generate-manual plugin runs `datasan --experimental-dump-help` (no network). A debug build: the
# plugin builds every target, and the fuzz targets (@testable imports) build only in debug.
man: deps hdf5-static
	$(SWIFT) package generate-manual --configuration debug
	@mkdir -p man && cp "$$(find .build/plugins/GenerateManual -name datasan.1 | head -1)" man/datasan.1
	@echo "wrote man/datasan.1 (man ./man/datasan.1)"

# The Python packages the tests' scripts import (PyPI): OpenCV checks the Caffe view of encoded
# Datums (cv2.imdecode is what Caffe's data layer decodes with), lmdb and numpy write the inputs.
# h5py reads the HDF5 outputs back (the classes attribute of the label dataset); pandas checks how
# tables are typed and reads the cleaned CSV back; Pillow decodes the photos the size tests compare with.
# PyYAML reads the Kubernetes example's Jobs (test-kubernetes); zstandard writes the zstd fixtures' checks.
PY_PACKAGES := numpy lmdb opencv-python-headless h5py pandas pillow pyyaml zstandard
pydeps:
	@if ! python3 -c 'import numpy, lmdb, cv2, h5py, pandas, PIL, yaml, zstandard' >/dev/null 2>&1; then \
	  echo "installing $(PY_PACKAGES) (pip)"; \
	  python3 -m pip install -q $(PY_PACKAGES) || python3 -m pip install -q --break-system-packages $(PY_PACKAGES); \
	fi

# Headless Chromium for the HTML report's browser test (Debian's chromium). Not fatal: where it
# cannot be installed, that test is skipped with a message.
browser:
	@if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 \
	    && ! command -v google-chrome >/dev/null 2>&1; then \
	  echo "installing chromium (for the HTML report's browser test)"; \
	  ( $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium ) \
	    || echo "warning: could not install chromium; the HTML report's browser test will be skipped"; \
	fi

# The three shells whose completion scripts the tests load (CompletionShellTests; bash-completion
# for bash's `complete` loader as the README installs it). Not fatal: a missing shell's test is skipped.
shells:
	@if ! command -v zsh >/dev/null 2>&1 || ! command -v fish >/dev/null 2>&1 \
	    || [ ! -f /usr/share/bash-completion/bash_completion ]; then \
	  echo "installing zsh fish bash-completion (for the completion tests)"; \
	  ( $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq zsh fish bash-completion ) \
	    || echo "warning: could not install zsh / fish / bash-completion; their completion tests will be skipped"; \
	fi

# The release binary too: the allocation tests count what the optimized build allocates. Then the
# whole suite again under AddressSanitizer (test-asan below), which CI runs as part of make test.
test: deps pydeps browser shells hdf5-static release
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --parallel
	./examples/slurm/test-slurm.sh
	python3 examples/kubernetes/test-kubernetes.py
	$(MAKE) test-asan

# The real engine: a one-node Slurm cluster (munged, slurmctld, slurmd of Debian's slurm-wlm and
# munge, installed when missing) runs examples/slurm/'s job array and dependent merge over a dataset
# of each format, and each merged report must equal one process's (~15 s here: 2.5 s to start
# Slurm, 5 s for 35 jobs; 17 s more to install it). Needs root or sudo without a password, and apt-get
# when Slurm is not installed: skipped with the reason otherwise (DATASAN_REQUIRE_SLURM=1 makes
# that a failure).
test-slurm: release
	./examples/slurm/test-slurm.sh

# The Kubernetes example (an Indexed Job and a merge Job) without Kubernetes: each pod's command
# line run here with the JOB_COMPLETION_INDEX it would get, the claims as local folders (~2 s).
test-kubernetes: release pydeps
	python3 examples/kubernetes/test-kubernetes.py

# Sanitizers: the whole suite, built in a scratch path of its own with the sanitizer in every Swift
# and C target (SwiftPM's --sanitize reaches the C targets too, after their -O3). Swift has no
# UndefinedBehaviorSanitizer, so -fsanitize=undefined goes to the C targets only (its runtime is part
# of ASan's). DATASAN_BINARY makes the CLI tests run this build's datasan; the allocation tests skip
# themselves (the sanitizer's allocator replaces malloc).
# allow_user_segv_handler=1: the LMDB fault guard installs its own SIGSEGV/SIGBUS handler over
# ASan's, to catch liblmdb's faults inside a corrupt map (ASan's handler would report them and exit).
# detect_leaks=0: LeakSanitizer finds leaks in the test runner itself (swift-corelibs-xctest and
# Foundation at exit), not in datasan. SWIFT_BACKTRACE=enable=no: the sanitizer prints the stack;
# the Swift backtracer, started on top of it in a sanitized process, can hang for many minutes.
SANITIZE_ASAN := --sanitize address -Xcc -fsanitize=undefined
SANITIZE_TSAN := --sanitize thread
test-asan: deps pydeps hdf5-static
	$(SWIFT) build --build-tests --scratch-path .build-asan $(SANITIZE_ASAN)
	DATASAN_BINARY=.build-asan/debug/datasan \
	ASAN_OPTIONS=allow_user_segv_handler=1:abort_on_error=1:detect_leaks=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 SWIFT_BACKTRACE=enable=no \
	  $(SWIFT) test --skip-build --scratch-path .build-asan $(SANITIZE_ASAN) --parallel

test-tsan: deps pydeps hdf5-static
	$(SWIFT) build --build-tests --scratch-path .build-tsan $(SANITIZE_TSAN)
	DATASAN_BINARY=.build-tsan/debug/datasan TSAN_OPTIONS=halt_on_error=1:abort_on_error=1 SWIFT_BACKTRACE=enable=no \
	  $(SWIFT) test --skip-build --scratch-path .build-tsan $(SANITIZE_TSAN) --parallel

demo: release
	@rm -rf $(DEMO_OUT) && mkdir -p $(DEMO_OUT)
	@echo "$$ datasan clean Fixtures/demo/train.h5 -o $(DEMO_OUT)/train.clean.h5 --num-classes 10 --report $(DEMO_OUT)/report.json"
	@$(BIN) clean Fixtures/demo/train.h5 -o $(DEMO_OUT)/train.clean.h5 --num-classes 10 --report $(DEMO_OUT)/report.json
	@echo
	@echo "first lines of $(DEMO_OUT)/train.clean.quarantine.h5.reasons.jsonl:"
	@head -n 4 $(DEMO_OUT)/train.clean.quarantine.h5.reasons.jsonl
	@echo
	@echo "outputs in $(DEMO_OUT):" && ls -1 $(DEMO_OUT)

# Full-scale benchmark against ../shared/bench's peers and limits; writes BENCHMARKS.md (~30 min).
bench: release
	./bench/run-bench.sh

clean:
	rm -rf .build .build-asan .build-tsan .build-fuzz .build-pkgconfig

# --- Fuzzing (Fuzz/README.md) ------------------------------------------------------------------
# make fuzz                    builds the libFuzzer binary, fuzzes every target FUZZ_SECONDS each
# make fuzz FUZZ_TARGETS="hdf5 lmdb" FUZZ_SECONDS=3600 FUZZ_JOBS=2
# make fuzz-triage             replays the saved crashes, one signature each, drops duplicates
# make fuzz-corpus             rewrites the seed corpora from the Fixtures (Fuzz/make_corpus.py)
# The regression test (seeds and saved crashes replayed) is the DatasanFuzzTests target of `make test`.
FUZZ_SECONDS ?= 300
FUZZ_JOBS    ?= 2
# The parsers of untrusted bytes first.
FUZZ_TARGETS ?= hdf5 lmdb npy png png-diff jpeg csv datum datum-diff datum-c float list config

.PHONY: fuzz fuzz-build fuzz-triage fuzz-corpus
fuzz-build: deps hdf5-static
	SWIFT="$(SWIFT)" ./Fuzz/fuzz.sh build

fuzz: fuzz-build
	FUZZ_JOBS=$(FUZZ_JOBS) ./Fuzz/fuzz.sh run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-triage:
	./Fuzz/fuzz.sh triage $(FUZZ_TARGETS)

fuzz-corpus:
	python3 Fuzz/make_corpus.py
