# Korb's entry points. `make demo` and `make test` work on a fresh Debian 12
# machine: they install missing packages, configure, build and run.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build demo demo-replicated demo-naming test bench clean

all: build

deps:
	@bash scripts/install-deps.sh

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

bench: build
	@$(BUILD_DIR)/bench/echo_bench && $(BUILD_DIR)/bench/seeds_bench && $(BUILD_DIR)/bench/activation_bench && \
	  $(BUILD_DIR)/bench/failover_bench && $(BUILD_DIR)/bench/naming_bench

clean:
	@rm -rf $(BUILD_DIR)
