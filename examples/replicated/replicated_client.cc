// replicated_client: calls the replicated counter through one reference
// naming every replica, and shows the client's transparencies at work:
// invoke-all writes, ordered failover, round robin across replicas (during
// which run_demo.sh kills a replica), and invoke-all with a replica gone.
//
//   replicated_client [--calls N] [--interval-ms M] REF [REF...]
//
// Each REF is what a replicated_server printed (one endpoint each), or one
// reference with several endpoints; their endpoints are joined into one
// reference. Exits non-zero if any of the round-robin reads failed.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "common/status_macros.h"
#include "replicated/counter.korb.h"

namespace {

struct Flags {
  int calls = 40;
  int interval_ms = 100;
  std::vector<std::string> refs;
};

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  const auto usage = absl::InvalidArgumentError(
      "usage: replicated_client [--calls N] [--interval-ms M] REF [REF...]");
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--calls" && i + 1 < argc) {
      if (!absl::SimpleAtoi(argv[++i], &flags.calls) || flags.calls < 0) return usage;
    } else if (arg == "--interval-ms" && i + 1 < argc) {
      if (!absl::SimpleAtoi(argv[++i], &flags.interval_ms) || flags.interval_ms < 0) return usage;
    } else if (arg.starts_with("--")) {
      return usage;
    } else {
      flags.refs.push_back(arg);
    }
  }
  if (flags.refs.empty()) return usage;
  return flags;
}

// One reference with the endpoints of all of `refs`, which must name the
// same adapter and object.
absl::StatusOr<korb::Ref> JoinReplicas(const std::vector<std::string>& refs) {
  ASSIGN_OR_RETURN(korb::Ref joined, korb::Ref::Parse(refs.front()));
  std::vector<korb::HostPort> endpoints = joined.endpoints();
  for (size_t i = 1; i < refs.size(); ++i) {
    ASSIGN_OR_RETURN(korb::Ref ref, korb::Ref::Parse(refs[i]));
    if (ref.adapter() != joined.adapter() || ref.id() != joined.id()) {
      return absl::InvalidArgumentError(refs[i] + " is not a replica of " + refs.front());
    }
    endpoints.insert(endpoints.end(), ref.endpoints().begin(), ref.endpoints().end());
  }
  joined.set_endpoints(std::move(endpoints));
  return joined;
}

replicated::Delta Amount(int64_t amount) {
  replicated::Delta delta;
  delta.set_amount(amount);
  return delta;
}

// Adds `amount` on every replica and says what `completion` made of it.
void AddToAll(const replicated::CounterStub& counter, korb::Completion completion,
              int64_t amount) {
  replicated::CounterStub stub = counter;
  stub.korb_set_replication(korb::Replication::kActive, completion);
  absl::StatusOr<replicated::Value> value = stub.Add(Amount(amount));
  std::cout << "  add " << amount << " (" << korb::CompletionName(completion) << "): ";
  if (value.ok()) {
    std::cout << "value " << value->value() << "\n";
  } else {
    std::cout << value.status() << "\n";
  }
}

absl::Status Run(const Flags& flags) {
  ASSIGN_OR_RETURN(korb::Ref ref, JoinReplicas(flags.refs));
  korb::ClientOptions options;
  options.default_timeout = absl::Seconds(5);
  // Come back to a restarted replica within a second or so.
  options.failback_initial_backoff = absl::Milliseconds(500);
  options.reconnect.initial_backoff = absl::Milliseconds(200);
  options.reconnect.max_backoff = absl::Seconds(1);
  korb::Client client(options);
  replicated::CounterStub counter(client, ref);
  std::cout << "replicated counter: " << ref << std::endl;

  std::cout << "invoke-all: writes go to every replica\n";
  AddToAll(counter, korb::Completion::kAll, 10);

  std::cout << "ordered failover: reads go to the first replica that is up\n";
  for (int i = 0; i < 3; ++i) {
    ASSIGN_OR_RETURN(replicated::Value value, counter.Get(korb::Empty()));
    std::cout << "  read " << value.value() << " from " << value.replica() << "\n";
  }

  std::cout << "round robin: reads spread over the replicas" << std::endl;
  counter.korb_set_selection(korb::SelectionPolicy::kRoundRobin);
  int failed = 0;
  for (int i = 0; i < flags.calls; ++i) {
    absl::StatusOr<replicated::Value> value = counter.Get(korb::Empty());
    if (value.ok()) {
      std::cout << "  call " << i << ": read " << value->value() << " from " << value->replica()
                << std::endl;
    } else {
      ++failed;
      std::cout << "  call " << i << ": FAILED " << value.status() << std::endl;
    }
    absl::SleepFor(absl::Milliseconds(flags.interval_ms));
  }

  std::cout << "invoke-all again (a replica may be gone now)\n";
  AddToAll(counter, korb::Completion::kFirst, 1);
  AddToAll(counter, korb::Completion::kMajority, 1);
  AddToAll(counter, korb::Completion::kAll, 1);

  std::cout << flags.calls << " round-robin reads, " << failed << " failed" << std::endl;
  if (failed > 0) return absl::UnavailableError("some reads failed");
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
  absl::Status status = flags.ok() ? Run(*flags) : flags.status();
  if (!status.ok()) {
    std::cerr << "replicated_client: " << status << std::endl;
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
