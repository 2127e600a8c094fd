// korb::StubBase: what generated stubs stand on. A stub is bound to one object
// reference; each typed operation marshals its request, sends it to the
// object (named by `korb-object` metadata) and unmarshals the reply.
//
// Errors: the server's status comes back unchanged as absl::Status, with the
// wire's `korb-error` refinement attached (korb::ErrorKindOf). A stub built
// from an invalid reference, or one to an object of another interface, fails
// every call with that INVALID_ARGUMENT status (Create() reports it upfront).
//
// Lifetime: a stub borrows its Client, which must outlive it and its calls.
// Asynchronous callbacks run on a gRPC thread, exactly once, and must not
// block for long.
//
// Thread-safety: thread-safe; stubs are cheap to copy and may be shared.
//
// Usage (generated subclass):
//   bank::AccountStub account(client, ref);   // or korb::MakeStub<...>(client, str)
//   absl::StatusOr<bank::Balance> b = account.Deposit(amount);
//   account.DepositAsync(amount, [](absl::StatusOr<bank::Balance> b) { ... });
//   korb::Future<bank::Balance> f = account.DepositAsync(amount);
#ifndef KORB_CLIENT_STUB_BASE_H_
#define KORB_CLIENT_STUB_BASE_H_

#include <functional>
#include <memory>
#include "absl/strings/string_view.h"
#include <utility>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/support/client_callback.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/call_options.h"
#include "client/client.h"
#include "client/future.h"
#include "common/ref.h"
#include "common/sync.h"
#include "skeletons/method_table.h"

namespace korb {

namespace internal {

// A stub's resolved target: the reference, the channel chosen for it, and the
// gRPC methods registered on that channel. Immutable once built.
struct Binding {
  Ref ref;
  const InterfaceInfo* interface = nullptr;
  absl::Status status;  // not OK: every call fails with it
  std::string object_key;  // korb-object metadata value
  std::shared_ptr<grpc::Channel> channel;
  std::vector<grpc::internal::RpcMethod> methods;  // by method index
};

// Sets up `context` for a call: korb-object, priority, deadline, caller
// metadata, cancellation. status() reports invalid options (a reserved
// metadata key, an already cancelled token). Registers the call with the
// options' cancellation token until destroyed; keeps nothing else of
// `options`, which may be gone before an asynchronous call completes.
class CallSetup {
 public:
  CallSetup(Client& client, const Binding& binding, int method,
            const CallOptions& options, grpc::ClientContext* context);
  ~CallSetup();
  CallSetup(const CallSetup&) = delete;
  CallSetup& operator=(const CallSetup&) = delete;

  const absl::Status& status() const { return status_; }

 private:
  absl::Status status_;
  std::shared_ptr<CancellationToken::State> cancellation_;
  grpc::ClientContext* context_;
};

// Turns a failed call's grpc::Status and trailing metadata into absl::Status
// carrying the korb-error kind.
absl::Status CallFailed(const grpc::Status& status,
                        const grpc::ClientContext& context);

}  // namespace internal

// Runtime members carry a `korb_` prefix (as Ice's proxies use `ice_`) so that
// no IDL operation name can collide with them.
class StubBase {
 public:
  // The reference this stub calls.
  const Ref& korb_ref() const { return binding_->ref; }
  // OK if the stub can call (valid reference of the right interface).
  const absl::Status& korb_status() const { return binding_->status; }
  Client& korb_client() const { return *client_; }

 protected:
  // Binds to `ref` for `interface`.
  StubBase(Client& client, const Ref& ref, const InterfaceInfo& interface);
  // Binds to the wire form of a reference (as returned by factory operations).
  StubBase(Client& client, const ObjectRef& ref, const InterfaceInfo& interface);

  template <typename Request, typename Reply>
  absl::StatusOr<Reply> korb_invoke(int method, const Request& request,
                                    const CallOptions& options) const {
    if (!binding_->status.ok()) return binding_->status;
    grpc::ClientContext context;
    internal::CallSetup setup(*client_, *binding_, method, options, &context);
    if (!setup.status().ok()) return setup.status();
    Reply reply;
    grpc::Status status = grpc::internal::BlockingUnaryCall<Request, Reply>(
        binding_->channel.get(), binding_->methods[method], &context, request,
        &reply);
    if (!status.ok()) return internal::CallFailed(status, context);
    return reply;
  }

  template <typename Request, typename Reply>
  void korb_invoke_async(int method, const Request& request,
                         std::function<void(absl::StatusOr<Reply>)> done,
                         const CallOptions& options) const {
    if (!binding_->status.ok()) {
      done(binding_->status);
      return;
    }
    // Owns everything the call touches until its completion callback.
    struct AsyncCall {
      grpc::ClientContext context;
      Request request;
      Reply reply;
      std::unique_ptr<internal::CallSetup> setup;
    };
    auto call = std::make_unique<AsyncCall>();
    call->request = request;
    call->setup = std::make_unique<internal::CallSetup>(
        *client_, *binding_, method, options, &call->context);
    if (!call->setup->status().ok()) {
      done(call->setup->status());
      return;
    }
    Client* client = client_;
    client->BeginAsyncCall();
    AsyncCall* raw = call.release();
    HappensBefore(raw);  // the completion runs on a gRPC thread
    grpc::internal::CallbackUnaryCall<Request, Reply>(
        binding_->channel.get(), binding_->methods[method], &raw->context,
        &raw->request, &raw->reply,
        [raw, client, done = std::move(done)](grpc::Status status) {
          HappensAfter(raw);
          std::unique_ptr<AsyncCall> owned(raw);
          if (status.ok()) {
            done(std::move(owned->reply));
          } else {
            done(internal::CallFailed(status, owned->context));
          }
          owned.reset();
          client->EndAsyncCall();
        });
  }

  template <typename Request, typename Reply>
  Future<Reply> korb_invoke_future(int method, const Request& request,
                                   const CallOptions& options) const {
    Future<Reply> future;
    korb_invoke_async<Request, Reply>(
        method, request,
        [future](absl::StatusOr<Reply> result) { future.Fulfill(std::move(result)); },
        options);
    return future;
  }

 private:
  Client* client_;
  std::shared_ptr<const internal::Binding> binding_;
};

// Builds a stub of type `Stub` (a generated XStub) for `ref`, failing with
// INVALID_ARGUMENT if the reference does not parse, is invalid, or names an
// object of another interface. Usage:
//   ASSIGN_OR_RETURN(bank::BankStub bank,
//                    korb::MakeStub<bank::BankStub>(client, "korb://..."));
template <typename Stub>
absl::StatusOr<Stub> MakeStub(Client& client, const Ref& ref) {
  Stub stub(client, ref);
  if (!stub.korb_status().ok()) return stub.korb_status();
  return stub;
}
template <typename Stub>
absl::StatusOr<Stub> MakeStub(Client& client, const ObjectRef& ref) {
  Stub stub(client, ref);
  if (!stub.korb_status().ok()) return stub.korb_status();
  return stub;
}
template <typename Stub>
absl::StatusOr<Stub> MakeStub(Client& client, absl::string_view ref) {
  absl::StatusOr<Ref> parsed = Ref::Parse(ref);
  if (!parsed.ok()) return parsed.status();
  return MakeStub<Stub>(client, *parsed);
}

}  // namespace korb

#endif  // KORB_CLIENT_STUB_BASE_H_
