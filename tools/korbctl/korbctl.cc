// korbctl: the command-line client of Korb servers (docs/operations.md).
//
//   korbctl [--json] [--timeout D] COMMAND ...
//     call REF OPERATION [JSON]   call any operation; request and reply as JSON
//          [--deadline D] [--priority N] [--metadata k=v]... [--type pkg.Service]
//     ping SERVER|REF             reach a server (and its admin object)
//     services SERVER             interfaces listed by server reflection
//     ls SERVER [ADAPTER]         adapters, or an adapter's active objects
//     stats SERVER [ADAPTER]      adapter metrics [--watch SECONDS] [--count N]
//     adapter ACTION SERVER ADAPTER   hold | discard | resume | shutdown [--grace-ms N]
//     shutdown SERVER             ask the server program to stop [--grace-ms N]
//     resolve NAMING NAME         the reference bound to NAME
//     names NAMING [PREFIX]       the names under PREFIX
//
// SERVER is "host:port" or any reference to an object on it; the server's
// admin object is korb://SERVER/korb-admin/admin (korb::admin::Serve).
// Exit codes: 0 done, 1 the call failed, 2 usage, 3 unreachable.
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "tools/korbctl/commands.h"

namespace {

// A duration flag: "500ms", "5s", "1m"; a bare number means seconds.
bool ParseDuration(const std::string& text, absl::Duration* out) {
  double seconds = 0;
  if (absl::SimpleAtod(text, &seconds)) {
    *out = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, out)) {
    return false;
  }
  return *out > absl::ZeroDuration();
}

}  // namespace

int main(int argc, char** argv) {
  namespace ctl = korb::ctl;
  CLI::App app{"korbctl: call, inspect and control Korb servers (docs/operations.md)"};
  app.require_subcommand(1, 1);
  app.fallthrough();
  bool json = false;
  std::string timeout = "10s";
  app.add_flag("--json", json, "print JSON (one object per line) instead of tables");
  app.add_option("--timeout", timeout, "per-call timeout, e.g. 500ms, 5s (default 10s)");

  std::string reference, operation, request_json, type, deadline;
  std::optional<int32_t> priority;
  std::vector<std::string> metadata;
  CLI::App* call = app.add_subcommand("call", "call an operation with a JSON request");
  call->add_option("reference", reference, "the object: korb://... or korbname://...")->required();
  call->add_option("operation", operation, "the operation, e.g. Deposit")->required();
  call->add_option("request", request_json, "the request as JSON (default {})");
  call->add_option("--deadline", deadline, "the call's timeout (as --timeout)");
  call->add_option("--priority", priority, "korb-priority of the call");
  call->add_option("--metadata", metadata, "request metadata key=value (repeatable)");
  call->add_option("--type", type, "the interface, if the reference names none");

  std::string target;
  CLI::App* ping = app.add_subcommand("ping", "reach a server and its admin object");
  ping->add_option("target", target, "host:port or a reference")->required();

  std::string server, adapter;
  CLI::App* services = app.add_subcommand("services", "interfaces listed by server reflection");
  services->add_option("server", server, "host:port or a reference")->required();

  int limit = 1000;
  CLI::App* ls = app.add_subcommand("ls", "list adapters, or an adapter's active objects");
  ls->add_option("server", server, "host:port or a reference")->required();
  ls->add_option("adapter", adapter, "list this adapter's objects");
  ls->add_option("--limit", limit, "list at most this many objects (default 1000)")
      ->check(CLI::Range(1, 100000));

  double watch = 0;
  int count = 0;
  CLI::App* stats = app.add_subcommand("stats", "adapter metrics");
  stats->add_option("server", server, "host:port or a reference")->required();
  stats->add_option("adapter", adapter, "only this adapter");
  stats->add_option("--watch", watch, "repeat every SECONDS until interrupted")
      ->check(CLI::Range(0.1, 3600.0));
  stats->add_option("--count", count, "with --watch: stop after N reports")
      ->check(CLI::Range(1, 1000000));

  std::string action;
  int grace_ms = 5000;
  CLI::App* control =
      app.add_subcommand("adapter", "hold, discard, resume or shut down an adapter");
  control->add_option("action", action, "hold | discard | resume | shutdown")
      ->required()
      ->check(CLI::IsMember({"hold", "discard", "resume", "shutdown"}));
  control->add_option("server", server, "host:port or a reference")->required();
  control->add_option("adapter", adapter, "the adapter")->required();
  control->add_option("--grace-ms", grace_ms, "shutdown: how long calls may drain (default 5000)")
      ->check(CLI::Range(1, 600000));

  CLI::App* shutdown = app.add_subcommand("shutdown", "ask a server program to shut down");
  shutdown->add_option("server", server, "host:port or a reference")->required();
  shutdown->add_option("--grace-ms", grace_ms, "how long calls may drain (default 5000)")
      ->check(CLI::Range(1, 600000));

  std::string naming, name, prefix;
  CLI::App* resolve = app.add_subcommand("resolve", "resolve a name in a naming service");
  resolve->add_option("naming", naming, "the naming service's reference")->required();
  resolve->add_option("name", name, "the name")->required();
  CLI::App* names = app.add_subcommand("names", "list names in a naming service");
  names->add_option("naming", naming, "the naming service's reference")->required();
  names->add_option("prefix", prefix, "only names under this prefix");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? ctl::kOk : ctl::kUsage;
  }

  ctl::Options options{.json = json, .out = &std::cout, .err = &std::cerr};
  if (!ParseDuration(timeout, &options.timeout)) {
    std::cerr << "korbctl: --timeout: '" << timeout << "' is not a duration (e.g. 5s)\n";
    return ctl::kUsage;
  }
  if (*call) {
    if (!deadline.empty() && !ParseDuration(deadline, &options.timeout)) {
      std::cerr << "korbctl: --deadline: '" << deadline << "' is not a duration (e.g. 5s)\n";
      return ctl::kUsage;
    }
    ctl::CallFlags flags;
    flags.type = type;
    flags.priority = priority;
    for (const std::string& pair : metadata) {
      std::vector<std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
      if (kv.size() != 2 || kv[0].empty()) {
        std::cerr << "korbctl: --metadata: '" << pair << "' is not key=value\n";
        return ctl::kUsage;
      }
      flags.metadata.emplace_back(kv[0], kv[1]);
    }
    return ctl::Call(options, reference, operation, request_json, flags);
  }
  if (*ping) return ctl::Ping(options, target);
  if (*services) return ctl::Services(options, server);
  if (*ls) return ctl::List(options, server, adapter, limit);
  if (*stats) {
    return ctl::Stats(options, server, adapter, absl::Seconds(watch > 0 ? watch : 1),
                      watch > 0 ? count : 1);
  }
  if (*control) return ctl::AdapterControl(options, action, server, adapter, grace_ms);
  if (*shutdown) return ctl::ShutdownServer(options, server, grace_ms);
  if (*resolve) return ctl::Resolve(options, naming, name);
  if (*names) return ctl::Names(options, naming, prefix);
  return ctl::kUsage;
}
