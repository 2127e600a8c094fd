// The in-memory transport, for tests: calls enter an object server's request
// pipeline (docs/architecture.md) as neutral requests and their answers are
// recorded, with no gRPC, no sockets and no serialization beyond the
// payload. Adapter, policy, lifecycle and dispatch tests run over it, so they
// run under ThreadSanitizer (gRPC's own threads do not).
//
//   StartInMemoryServer()  an ObjectServer without a gRPC server; references
//                          it issues name an endpoint nothing listens on
//   InMemoryCall           one call: Start() it, Cancel() it, Wait() for the
//                          recorded InMemoryReply (status, trailers, body)
//
// Thread-safety: InMemoryCall is thread-safe (the pipeline answers on any
// thread; Cancel() and Wait() may race with it).
//
// Usage:
//   std::unique_ptr<korb::ObjectServer> server = korb::testing::StartInMemoryServer();
//   ... create adapters, activate objects ...
//   korb::testing::InMemoryRequest request;
//   request.method_path = "/bank.Account/Deposit";
//   request.object_key = korb::EncodeObjectKey("bank", "a1");
//   request.payload = amount.SerializeAsString();
//   std::shared_ptr<InMemoryCall> call = InMemoryCall::Start(*server, std::move(request));
//   ASSERT_TRUE(call->Wait(absl::Seconds(30)));
//   EXPECT_TRUE(call->reply().status.ok());
#ifndef KORB_ADAPTER_TESTING_IN_MEMORY_TRANSPORT_H_
#define KORB_ADAPTER_TESTING_IN_MEMORY_TRANSPORT_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapter/object_server.h"
#include "skeletons/peer_identity.h"

namespace korb::testing {

// A server whose only transport is this one, with the start-up window and
// the in-flight request bytes of ObjectServerOptions (no window by default).
std::unique_ptr<ObjectServer> StartInMemoryServer(
    absl::Duration startup_window = absl::ZeroDuration(),
    size_t max_request_bytes_in_flight = ObjectServerOptions().max_request_bytes_in_flight);

struct InMemoryRequest {
  std::string method_path;                // "/package.Service/Method"
  std::optional<std::string> object_key;  // korb-object; unset: the default object
  // Other request metadata (korb-priority, korb-request-id, x-...).
  std::vector<std::pair<std::string, std::string>> metadata;
  absl::Time deadline = absl::InfiniteFuture();
  std::string payload;  // the serialized request message
  std::string peer = "in-memory:1";  // the "connection" policies key on
  // The caller's identity as a TLS transport would have verified it (e.g.
  // {.verified = true, .common_name = "alice"}); its address defaults to
  // `peer`.
  PeerIdentity identity;
};

struct InMemoryReply {
  absl::Status status;
  std::string body;  // the serialized reply message, if OK
  std::map<std::string, std::string> trailers;
  // The korb-error trailer, or "".
  std::string korb_error() const;
};

class InMemoryCall {
 public:
  // Hands a call to `server`'s pipeline on this thread (an inline policy
  // runs the servant before this returns). The call keeps itself alive
  // until it is answered.
  static std::shared_ptr<InMemoryCall> Start(ObjectServer& server, InMemoryRequest request);

  // The caller gives up: the pipeline sees the call cancelled.
  void Cancel();
  // Waits until the call is answered; false after `timeout`.
  bool Wait(absl::Duration timeout) const;
  bool answered() const;
  // How many times the pipeline answered the call: 1 once answered (a
  // second answer is a pipeline bug the fuzzers look for).
  int answers() const;
  // The answer; only after Wait() returned true.
  const InMemoryReply& reply() const;

  class Impl;
  explicit InMemoryCall(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

 private:
  // Shared with the pipeline until it has answered.
  std::shared_ptr<Impl> impl_;
};

}  // namespace korb::testing

#endif  // KORB_ADAPTER_TESTING_IN_MEMORY_TRANSPORT_H_
