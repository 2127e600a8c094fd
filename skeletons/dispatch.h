// What generated skeletons stand on: decoding a request, invoking the typed
// servant operation, and encoding its reply, with the wire contract's error
// mapping:
//   undecodable request  -> INVALID_ARGUMENT, korb-error: bad-request
//   operation's status   -> passed through unchanged (code and message)
//   operation throws     -> INTERNAL (the server keeps serving)
//
// Thread-safety: stateless functions; thread-safe.
//
// Usage (generated code):
//   case 0:
//     return korb::internal::InvokeUnary<bank::Amount, bank::Balance>(
//         context, request, reply,
//         [this](korb::CallContext& c, const bank::Amount& r) { return Deposit(c, r); });
#ifndef KORB_SKELETONS_DISPATCH_H_
#define KORB_SKELETONS_DISPATCH_H_

#include <exception>
#include <utility>

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>
#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "skeletons/call_context.h"

namespace korb {

// Converts between Abseil and gRPC statuses (the codes are the same numbers).
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status ToAbslStatus(const grpc::Status& status);

namespace internal {

// Status for a request payload that does not decode; also tags the reply
// with korb-error: bad-request.
grpc::Status BadRequest(CallContext& context, absl::string_view message_type);
// Status for an operation that returned `status` (not OK): its code and
// message, with its korb::ErrorKind, if any, as the korb-error trailer, so a
// servant refines its errors as the runtime does (e.g. the naming service's
// name-not-bound, a servant's own transient overload).
grpc::Status ServantFailed(CallContext& context, const absl::Status& status);
// Status for an operation that threw; logs the exception's message.
grpc::Status ServantThrew(CallContext& context, const char* what);
// Status for a method index outside the interface (input from the network).
grpc::Status UnknownMethodIndex(int index);

template <typename Request>
bool DecodeRequest(const grpc::ByteBuffer& buffer, Request* request) {
  // ProtoBufferReader needs a mutable buffer but only reads its slices;
  // copying a ByteBuffer is a reference-count increment, not a data copy.
  grpc::ByteBuffer view(buffer);
  grpc::ProtoBufferReader reader(&view);
  return request->ParseFromZeroCopyStream(&reader) && reader.status().ok();
}

template <typename Reply>
grpc::Status EncodeReply(const Reply& reply, grpc::ByteBuffer* buffer) {
  bool own_buffer;
  return grpc::SerializationTraits<Reply>::Serialize(reply, buffer, &own_buffer);
}

template <typename Request, typename Reply, typename Operation>
grpc::Status InvokeUnary(CallContext& context, const grpc::ByteBuffer& request_buffer,
                         grpc::ByteBuffer* reply_buffer, Operation&& operation) {
  Request request;
  if (!DecodeRequest(request_buffer, &request)) {
    return BadRequest(context, request.GetTypeName());
  }
  try {
    absl::StatusOr<Reply> reply = std::forward<Operation>(operation)(context, request);
    if (!reply.ok()) return ServantFailed(context, reply.status());
    return EncodeReply(*reply, reply_buffer);
  } catch (const std::exception& e) {
    return ServantThrew(context, e.what());
  } catch (...) {
    return ServantThrew(context, "non-standard exception");
  }
}

}  // namespace internal
}  // namespace korb

#endif  // KORB_SKELETONS_DISPATCH_H_
