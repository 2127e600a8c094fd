// Processes the naming end-to-end tests start: `korb-naming` servers,
// registered servers, and a real etcd (the Debian binary) on free ports of
// 127.0.0.1 with a temporary data directory. Each is stopped by PID (the
// Subprocess destructor kills what a failed test left running).
//
// Thread-compatible (tests drive them from their main thread).
//
// Usage:
//   int port = FreePort();
//   absl::StatusOr<NamingProcess> naming = StartNaming({"--listen", Local(port)});
//   ASSERT_TRUE(naming.ok()) << naming.status();
//   naming->ref;   // korb://127.0.0.1:PORT/korb-naming/root?type=...
#ifndef KORB_TESTS_NAMING_NAMING_PROCESSES_H_
#define KORB_TESTS_NAMING_NAMING_PROCESSES_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "common/ref.h"
#include "korb/naming.pb.h"
#include "tests/testing/subprocess.h"

namespace korb::naming::testing {

// A TCP port of 127.0.0.1 that was free a moment ago (the kernel's choice).
int FreePort();
// "127.0.0.1:<port>".
std::string Local(int port);

// A process that printed a reference on its first line.
struct RefProcess {
  korb::testing::Subprocess process;
  Ref ref;
};

// Starts `binary` with `args` and reads its reference (bounded: 30 s).
absl::StatusOr<RefProcess> StartWithRef(const std::string& binary,
                                        const std::vector<std::string>& args);

// Starts registered_server (`binary`) registering under `name` in `naming`
// with a lease of `ttl` seconds; the reference it prints is its object's.
absl::StatusOr<RefProcess> StartRegisteredServer(const std::string& binary, const Ref& naming,
                                                 const std::string& name, int ttl);
// Reads registered_server's "registered" line (bounded: 60 s).
absl::Status AwaitRegistered(RefProcess& server);

// Resolves `name` in the naming service `naming` (a 5 s timeout).
absl::StatusOr<ResolveReply> ResolveName(Client& client, const Ref& naming,
                                         const std::string& name);
// True if resolving `name` answers NOT_FOUND with korb-error name-not-bound.
bool IsUnbound(Client& client, const Ref& naming, const std::string& name);

// Calls `probe` until it returns true or `timeout` passes; true if it did.
// Polls every 50 ms.
bool Eventually(absl::Duration timeout, const std::function<bool()>& probe);

// A real etcd v3 server: /usr/bin/etcd (or $KORB_ETCD), one member, on free
// client and peer ports, data in a temporary directory removed by the
// destructor.
class EtcdProcess {
 public:
  // The etcd binary, or nullopt when it is not installed.
  static std::optional<std::string> Binary();
  // Starts etcd and waits (bounded: 60 s) until it answers.
  static absl::StatusOr<EtcdProcess> Start();
  EtcdProcess(EtcdProcess&& other) noexcept;
  EtcdProcess& operator=(EtcdProcess&&) = delete;
  ~EtcdProcess();

  // Stops etcd (SIGKILL: as a crash) and starts it again on the same ports
  // and data, waiting until it answers.
  absl::Status Restart();
  // Same, but with its data removed first (a new, empty etcd on the same
  // ports: revisions and leases start over).
  absl::Status RestartEmpty();
  // Stops etcd (SIGTERM).
  void Stop();

  // "127.0.0.1:<client port>".
  const std::string& endpoint() const { return endpoint_; }

 private:
  EtcdProcess() = default;
  absl::Status Launch();

  std::string binary_;
  std::string data_dir_;
  std::string endpoint_;
  std::string peer_url_;
  std::optional<korb::testing::Subprocess> process_;
};

}  // namespace korb::naming::testing

#endif  // KORB_TESTS_NAMING_NAMING_PROCESSES_H_
