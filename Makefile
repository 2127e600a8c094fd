# Korb's entry points. `make demo` and `make test` work on a fresh Debian 12
# machine: they install missing packages, configure, build and run.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 30

.PHONY: all deps bench-deps configure build demo demo-replicated demo-naming test test-tsan bench \
	bench-peers fuzz clean

all: build

deps:
	@bash scripts/install-deps.sh

# What only the peer benchmark needs (ZeroC Ice, omniORB, matplotlib). The
# next `make build` configures again, finds them and builds their programs.
bench-deps: deps
	@bash scripts/install-deps.sh bench

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# The bank example end to end: server and client as separate processes.
demo: build
	@bash examples/bank/run_demo.sh $(BUILD_DIR)

# The bank through the naming service: korb-naming (in memory), bank_server
# registered as "bank", bank_client finding it by name (korbname://).
demo-naming: build
	@bash examples/bank/run_naming_demo.sh $(BUILD_DIR)

# The replicated example: three replicas, one killed with SIGKILL mid-run.
demo-replicated: build
	@bash examples/replicated/run_demo.sh $(BUILD_DIR)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

# The adapter's tests under ThreadSanitizer, in their own build directory:
# adapter, lifecycle, policy and dispatch tests run over the in-memory
# transport (no gRPC), so all of them run; over-gRPC ones are skipped
# (docs/threading.md, "Sanitizers"). The client's collocated calls have no
# gRPC either: tests/client runs too.
TSAN_DIR ?= build-tsan
test-tsan: deps
	@cmake -S . -B $(TSAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DKORB_SANITIZE=thread >/dev/null
	@cmake --build $(TSAN_DIR) -j $(JOBS) --target adapter_tests client_tests
	@cd $(TSAN_DIR)/tests/adapter && ctest --output-on-failure -j $(JOBS) --timeout 600
	@cd $(TSAN_DIR)/tests/client && ctest --output-on-failure -j $(JOBS) --timeout 600

bench: build
	@$(BUILD_DIR)/bench/echo_bench && $(BUILD_DIR)/bench/seeds_bench && $(BUILD_DIR)/bench/activation_bench && \
	  $(BUILD_DIR)/bench/failover_bench && $(BUILD_DIR)/bench/naming_bench && \
	  $(BUILD_DIR)/bench/peers/peer_bench

# Korb against raw gRPC, ZeroC Ice and omniORB across processes (skips the
# peers that `make bench-deps` did not install).
bench-peers: build
	@$(BUILD_DIR)/bench/peers/peer_bench

# libFuzzer targets (clang, ASan+UBSan), each run for FUZZ_SECONDS from the
# seed corpus in tests/fuzz/corpus (docs/security.md, "Fuzzing").
fuzz: deps
	@bash scripts/install-deps.sh fuzz
	@cmake -S . -B $(FUZZ_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++ -DKORB_SANITIZE=fuzzer -DKORB_BUILD_TESTS=OFF \
	  -DKORB_BUILD_BENCH=OFF -DKORB_BUILD_EXAMPLES=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target korb_fuzzers
	@bash tests/fuzz/run.sh $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS)

clean:
	@rm -rf $(BUILD_DIR)
