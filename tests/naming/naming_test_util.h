// Values and set-ups the naming tests share: references to bind, wait
// parameters, and a naming service in this process (an ObjectServer hosting
// korb::naming::Serve over a MemoryBackend).
//
// Thread-compatible (tests drive them from their main thread).
//
// Usage:
//   InProcessNaming naming;
//   ASSERT_THAT(naming.Start(), IsOk());
//   NamingContextStub stub(client, naming.ref);
//   stub.Bind(...);  naming.backend->Get("bank");
#ifndef KORB_TESTS_NAMING_NAMING_TEST_UTIL_H_
#define KORB_TESTS_NAMING_NAMING_TEST_UTIL_H_

#include <memory>
#include <string>
#include <utility>

#include "adapter/object_server.h"
#include "common/ref.h"
#include "common/status_macros.h"
#include "servants/naming/memory_backend.h"
#include "servants/naming/naming_backend.h"
#include "servants/naming/naming_service.h"

namespace korb::naming::testing {

inline korb::ObjectRef RefTo(const std::string& uri) { return Ref::Parse(uri)->ToProto(); }
// A permanent binding's reference.
inline korb::ObjectRef BankRef() {
  return RefTo("korb://127.0.0.1:7000/bank/main?type=bank.Bank");
}
// The reference of one replica (on `port`) of a replicated object.
inline korb::ObjectRef Replica(int port) {
  return RefTo("korb://127.0.0.1:" + std::to_string(port) + "/replicated/counter?type=r.Counter");
}

// A backend wait under `prefix` after `after`, for at most `timeout`.
inline WaitParams WaitFor(const std::string& prefix, int64_t after, absl::Duration timeout) {
  WaitParams params;
  params.prefix = prefix;
  params.after_revision = after;
  params.deadline = absl::Now() + timeout;
  return params;
}

struct InProcessNaming {
  absl::Status Start() {
    ASSIGN_OR_RETURN(server, ObjectServer::Start({}));
    backend = std::make_shared<MemoryBackend>();
    ASSIGN_OR_RETURN(ref, Serve(*server, backend));
    return absl::OkStatus();
  }

  std::unique_ptr<ObjectServer> server;
  std::shared_ptr<MemoryBackend> backend;
  Ref ref;
};

}  // namespace korb::naming::testing

#endif  // KORB_TESTS_NAMING_NAMING_TEST_UTIL_H_
