// Calls over the in-memory transport (adapter/testing/in_memory_transport.h)
// with the caller-side behaviour of a Korb stub that the adapter tests rely
// on: the deadline and the cancellation token end the wait (and cancel the
// call on the server, as gRPC would), korb-priority / korb-request-id /
// extra metadata are sent, and the korb-error trailer becomes the status's
// korb::ErrorKind. Forwards are not followed and nothing is retried: that
// is the client's part, tested over gRPC.
//
// InMemoryEchoStub and InMemoryFactoryStub mirror korbtest::EchoStub and
// korbtest::EchoFactoryStub, so a test reads the same over either
// transport.
//
// Thread-safety: thread-safe. The client joins its waiting threads when
// destroyed, so destroy it after the server (which answers every call).
#ifndef KORB_TESTS_TESTING_IN_MEMORY_CLIENT_H_
#define KORB_TESTS_TESTING_IN_MEMORY_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapter/object_server.h"
#include "adapter/testing/in_memory_transport.h"
#include "client/call_options.h"
#include "client/future.h"
#include "common/ref.h"
#include "common/sync.h"
#include "korbtest/testing.korb.h"

namespace korb::testing {

template <typename Reply>
absl::StatusOr<Reply> ParseReply(absl::StatusOr<std::string> body) {
  if (!body.ok()) return body.status();
  Reply reply;
  if (!reply.ParseFromString(*body)) return absl::InternalError("reply does not parse");
  return reply;
}

class InMemoryClient {
 public:
  InMemoryClient() = default;
  InMemoryClient(const InMemoryClient&) = delete;
  InMemoryClient& operator=(const InMemoryClient&) = delete;
  ~InMemoryClient();

  // The server calls go to; set before the first call.
  void set_server(ObjectServer* server) { server_ = server; }

  // One call of `method_path` on the object `ref` names; the serialized
  // reply or the error.
  absl::StatusOr<std::string> Call(const Ref& ref, absl::string_view method_path,
                                   std::string payload, const CallOptions& options) const;
  // The same, answered on a thread of the client's; the call has reached
  // the server's pipeline when this returns.
  template <typename Reply>
  Future<Reply> CallAsync(const Ref& ref, absl::string_view method_path, std::string payload,
                          const CallOptions& options) ABSL_LOCKS_EXCLUDED(mu_) {
    std::shared_ptr<InMemoryCall> call = Start(ref, method_path, std::move(payload), options);
    Future<Reply> future;
    Spawn([call, options, future] { future.Fulfill(ParseReply<Reply>(Finish(call, options))); });
    return future;
  }

 private:
  std::shared_ptr<InMemoryCall> Start(const Ref& ref, absl::string_view method_path,
                                      std::string payload, const CallOptions& options) const;
  // Waits for `call`'s answer, or gives up as the caller would.
  static absl::StatusOr<std::string> Finish(const std::shared_ptr<InMemoryCall>& call,
                                            const CallOptions& options);
  void Spawn(std::function<void()> waiter) ABSL_LOCKS_EXCLUDED(mu_);

  ObjectServer* server_ = nullptr;
  Mutex mu_;
  std::vector<std::thread> waiters_ ABSL_GUARDED_BY(mu_);
};

class InMemoryStubBase {
 public:
  InMemoryStubBase(InMemoryClient& client, Ref ref) : client_(&client), ref_(std::move(ref)) {}
  const Ref& ref() const { return ref_; }

 protected:
  template <typename Reply, typename Request>
  absl::StatusOr<Reply> Invoke(absl::string_view path, const Request& request,
                               const CallOptions& options) const {
    return ParseReply<Reply>(client_->Call(ref_, path, request.SerializeAsString(), options));
  }
  template <typename Reply, typename Request>
  Future<Reply> InvokeAsync(absl::string_view path, const Request& request,
                            const CallOptions& options) const {
    return client_->CallAsync<Reply>(ref_, path, request.SerializeAsString(), options);
  }

  InMemoryClient* client_;
  Ref ref_;
};

class InMemoryEchoStub : public InMemoryStubBase {
 public:
  using InMemoryStubBase::InMemoryStubBase;
  absl::StatusOr<korbtest::EchoReply> Echo(const korbtest::EchoRequest& request,
                                           const CallOptions& options = {}) const {
    return Invoke<korbtest::EchoReply>("/korbtest.Echo/Echo", request, options);
  }
  Future<korbtest::EchoReply> EchoAsync(const korbtest::EchoRequest& request,
                                        const CallOptions& options = {}) const {
    return InvokeAsync<korbtest::EchoReply>("/korbtest.Echo/Echo", request, options);
  }
  absl::StatusOr<Empty> Ping(const Empty& request, const CallOptions& options = {}) const {
    return Invoke<Empty>("/korbtest.Echo/Ping", request, options);
  }
  Future<Empty> PingAsync(const Empty& request, const CallOptions& options = {}) const {
    return InvokeAsync<Empty>("/korbtest.Echo/Ping", request, options);
  }
};

class InMemoryFactoryStub : public InMemoryStubBase {
 public:
  using InMemoryStubBase::InMemoryStubBase;
  absl::StatusOr<ObjectRef> Create(const korbtest::CreateRequest& request,
                                   const CallOptions& options = {}) const {
    return Invoke<ObjectRef>("/korbtest.EchoFactory/Create", request, options);
  }
};

}  // namespace korb::testing

#endif  // KORB_TESTS_TESTING_IN_MEMORY_CLIENT_H_
