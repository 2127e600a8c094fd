// korbctl's commands (korbctl.cc parses the command line into them): each
// runs against servers and naming services, prints human-readable tables
// (or JSON with `json`), and returns korbctl's exit code.
//
// Exit codes (docs/operations.md):
//   0  done
//   1  the call failed: the server answered with an error
//   2  usage: bad arguments, a malformed reference, endpoint or JSON, an
//      unknown interface or operation
//   3  unreachable: no server answered within the timeout
//
// Thread-compatible: one command at a time.
//
// Usage:
//   korb::ctl::Options options{.out = &std::cout, .err = &std::cerr};
//   int code = korb::ctl::Stats(options, "127.0.0.1:7000", "");
#ifndef KORB_TOOLS_KORBCTL_COMMANDS_H_
#define KORB_TOOLS_KORBCTL_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace korb::ctl {

enum ExitCode { kOk = 0, kCallFailed = 1, kUsage = 2, kUnreachable = 3 };

struct Options {
  bool json = false;                           // JSON lines instead of tables
  absl::Duration timeout = absl::Seconds(10);  // per call
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
};

struct CallFlags {
  std::string type;  // the interface, when the reference names none
  std::optional<int32_t> priority;
  std::vector<std::pair<std::string, std::string>> metadata;
};

// `korbctl call REF OPERATION [JSON]`: the reply as JSON.
int Call(const Options& options, const std::string& reference, const std::string& operation,
         const std::string& request_json, const CallFlags& flags);
// `korbctl ping SERVER|REF`: reaches each endpoint and its admin object.
int Ping(const Options& options, const std::string& target);
// `korbctl services SERVER`: the interfaces server reflection lists.
int Services(const Options& options, const std::string& server);
// `korbctl ls SERVER [ADAPTER]`: the adapters, or an adapter's objects (at
// most `limit`).
int List(const Options& options, const std::string& server, const std::string& adapter, int limit);
// `korbctl stats SERVER [ADAPTER]`: metrics, `count` times every `interval`
// (count 0: until interrupted).
int Stats(const Options& options, const std::string& server, const std::string& adapter,
          absl::Duration interval, int count);
// `korbctl adapter hold|discard|resume|shutdown SERVER ADAPTER`.
int AdapterControl(const Options& options, const std::string& action, const std::string& server,
                   const std::string& adapter, int grace_ms);
// `korbctl shutdown SERVER`: asks the server program to shut down.
int ShutdownServer(const Options& options, const std::string& server, int grace_ms);
// `korbctl resolve NAMING NAME`: the reference bound to NAME.
int Resolve(const Options& options, const std::string& naming, const std::string& name);
// `korbctl names NAMING [PREFIX]`: the bindings under PREFIX.
int Names(const Options& options, const std::string& naming, const std::string& prefix);

}  // namespace korb::ctl

#endif  // KORB_TOOLS_KORBCTL_COMMANDS_H_
