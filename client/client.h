// korb::Client: the client runtime that generated stubs call through. It owns
// one gRPC channel per endpoint (shared by every stub and call to that
// endpoint), the client-wide defaults, and the accounting that lets its
// destructor wait for asynchronous calls still in flight.
//
// Lifetime: every stub borrows its Client; the Client must outlive its stubs.
// Destroying a Client blocks until all its asynchronous calls have completed
// (their callbacks have returned).
//
// Thread-safety: thread-safe.
//
// Usage:
//   korb::Client client;
//   absl::StatusOr<bank::BankStub> bank = korb::MakeStub<bank::BankStub>(client, argv[1]);
//   if (!bank.ok()) return bank.status();
//   absl::StatusOr<korb::ObjectRef> account = bank->Open(owner);
#ifndef KORB_CLIENT_CLIENT_H_
#define KORB_CLIENT_CLIENT_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "common/sync.h"
#include "absl/time/time.h"
#include "common/ref.h"

namespace grpc {
class Channel;
}  // namespace grpc

namespace korb {

struct ClientOptions {
  // Timeout of calls whose CallOptions set neither timeout nor deadline.
  absl::Duration default_timeout = absl::InfiniteDuration();
  // Largest reply accepted, in bytes (gRPC's default is 4 MiB).
  int max_receive_message_bytes = 4 * 1024 * 1024;
  // Largest request sent, in bytes; -1 for no limit.
  int max_send_message_bytes = -1;
  // By default gRPC shares one connection per server address among all
  // channels of a process, so every Client in a process reaches a server over
  // the same connection. With private_connections a Client opens its own
  // connections (gRPC's local subchannel pool): what thread-per-connection
  // servers need to tell two Clients of one process apart, at the price of a
  // connection per Client and endpoint.
  bool private_connections = false;
};

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The channel to `endpoint`, created on first use and cached for the
  // Client's lifetime. Never null; connection failures surface on calls.
  std::shared_ptr<grpc::Channel> Channel(const HostPort& endpoint)
      ABSL_LOCKS_EXCLUDED(mu_);

  const ClientOptions& options() const { return options_; }

  // Runtime side: brackets an asynchronous call so ~Client can wait for it.
  void BeginAsyncCall() ABSL_LOCKS_EXCLUDED(mu_);
  void EndAsyncCall() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const ClientOptions options_;
  korb::Mutex mu_;
  absl::flat_hash_map<HostPort, std::shared_ptr<grpc::Channel>> channels_
      ABSL_GUARDED_BY(mu_);
  int async_calls_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace korb

#endif  // KORB_CLIENT_CLIENT_H_
