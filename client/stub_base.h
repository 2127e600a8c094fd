// korb::StubBase: what generated stubs stand on. A stub is bound to one object
// reference; each typed operation marshals its request, hands it to the
// client runtime (client/internal/invocation.h) and unmarshals the reply.
// The runtime sends the request to the object (named by `korb-object`
// metadata) and provides the transparencies of docs/client.md: replica
// selection and failback across the reference's endpoints, retries of
// transient failures with backoff and request ids, forwards followed and
// cached, and active replication (korb_set_replication).
//
// Errors: the server's status comes back unchanged as absl::Status, with the
// wire's `korb-error` refinement attached (korb::ErrorKindOf); a status that
// survived retries says so in its message ("... (after 3 attempts)"). A stub
// built from an invalid reference, or one to an object of another interface,
// fails every call with that INVALID_ARGUMENT status (MakeStub() reports it
// upfront).
//
// Lifetime: a stub borrows its Client, which must outlive it and its calls.
// Asynchronous callbacks run exactly once, on a gRPC thread or the Client's
// timer thread (or on the calling thread when the call fails before it is
// sent; for a collocated call, on the thread that answered it: the adapter's
// policy thread, or the calling thread for an inline adapter), and must not
// block for long.
//
// Thread-safety: calls are thread-safe; stubs are cheap to copy and may be
// shared. The korb_set_* setters are thread-compatible: they change one stub
// object, so call them before sharing it.
//
// Usage (generated subclass):
//   bank::AccountStub account(client, ref);   // or korb::MakeStub<...>(client, str)
//   absl::StatusOr<bank::Balance> b = account.Deposit(amount);
//   account.DepositAsync(amount, [](absl::StatusOr<bank::Balance> b) { ... });
//   korb::Future<bank::Balance> f = account.DepositAsync(amount);
//   account.korb_set_selection(korb::SelectionPolicy::kRoundRobin);
#ifndef KORB_CLIENT_STUB_BASE_H_
#define KORB_CLIENT_STUB_BASE_H_

#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "client/call_options.h"
#include "client/client.h"
#include "client/future.h"
#include "client/internal/invocation.h"
#include "client/internal/target.h"
#include "client/policy.h"
#include "common/ref.h"
#include "skeletons/method_table.h"

namespace korb {

namespace internal {

// The request message serialized once, for every attempt and replica.
template <typename Request>
absl::Status SerializeRequest(const Request& request, grpc::ByteBuffer* bytes) {
  bool own_buffer = false;
  grpc::Status status = grpc::SerializationTraits<Request>::Serialize(request, bytes, &own_buffer);
  if (status.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("request did not serialize: ", status.error_message()));
}

template <typename Reply>
absl::StatusOr<Reply> ParseReply(grpc::ByteBuffer& bytes) {
  Reply reply;
  grpc::Status status = grpc::SerializationTraits<Reply>::Deserialize(&bytes, &reply);
  if (status.ok()) return reply;
  return absl::InternalError(absl::StrCat("reply did not decode: ", status.error_message()));
}

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
  // Where calls start: the forwarded location the Client has cached for
  // korb_ref() (Client::CachedLocation), else korb_ref() itself. For an
  // indirect korb_ref(), the same for its cached resolution
  // (Client::CachedResolution), or korb_ref() while none is cached.
  Ref korb_location() const;

  // Replica selection of this stub's calls (a call's CallOptions::selection
  // wins); unset: ClientOptions::selection. Setters change this stub object
  // only, not its copies, and are not thread-safe against calls on the same
  // object: configure a stub before sharing it.
  void korb_set_selection(SelectionPolicy policy) { config_.selection = policy; }
  std::optional<SelectionPolicy> korb_selection() const { return config_.selection; }
  // Replication mode: under Replication::kActive, calls of operations that
  // are not readonly go to every endpoint at once and complete as
  // `completion` says (docs/client.md); readonly ones go to one endpoint,
  // chosen by the selection policy (read one, write all).
  void korb_set_replication(Replication replication, Completion completion = Completion::kAll) {
    config_.replication = replication;
    config_.completion = completion;
  }
  Replication korb_replication() const { return config_.replication; }
  Completion korb_completion() const { return config_.completion; }

 protected:
  // Binds to `ref` for `interface`.
  StubBase(Client& client, const Ref& ref, const InterfaceInfo& interface);
  // Binds to the wire form of a reference (as returned by factory operations).
  StubBase(Client& client, const ObjectRef& ref, const InterfaceInfo& interface);

  template <typename Request, typename Reply>
  absl::StatusOr<Reply> korb_invoke(int method, const Request& request,
                                    const CallOptions& options) const {
    if (!binding_->status.ok()) return binding_->status;
    grpc::ByteBuffer bytes;
    if (absl::Status status = internal::SerializeRequest(request, &bytes); !status.ok()) {
      return status;
    }
    absl::StatusOr<grpc::ByteBuffer> reply =
        internal::InvokeBlocking(*client_, binding_, config_, method, bytes, options);
    if (!reply.ok()) return reply.status();
    return internal::ParseReply<Reply>(*reply);
  }

  template <typename Request, typename Reply>
  void korb_invoke_async(int method, const Request& request,
                         std::function<void(absl::StatusOr<Reply>)> done,
                         const CallOptions& options) const {
    if (!binding_->status.ok()) {
      done(binding_->status);
      return;
    }
    grpc::ByteBuffer bytes;
    if (absl::Status status = internal::SerializeRequest(request, &bytes); !status.ok()) {
      done(status);
      return;
    }
    internal::InvokeAsync(
        *client_, binding_, config_, method, std::move(bytes), options,
        [done = std::move(done)](absl::StatusOr<grpc::ByteBuffer> reply) {
          if (!reply.ok()) {
            done(reply.status());
          } else {
            done(internal::ParseReply<Reply>(*reply));
          }
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
  internal::StubConfig config_;
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
