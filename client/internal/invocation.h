// The drivers that run a stub's calls on gRPC: blocking and callback-based,
// over serialized messages, so that all of the runtime's decisions
// (CallPlan) live in one non-template place and generated stubs only
// marshal.
//
// InvokeBlocking / InvokeAsync route a call: under Replication::kActive a
// non-readonly operation on a reference with several endpoints becomes a
// replicated call (replicated_call.h); everything else is one CallPlan run
// to its end.
//
// Each attempt goes over gRPC, or, when its endpoint is served by an
// ObjectServer of this process and the call may be collocated
// (CallParams::collocated), straight into that server's pipeline
// (adapter/internal/collocated.h).
//
// Threads: the blocking driver sleeps its retry waits on the calling thread
// (cut short by cancellation). The callback driver never blocks: it waits on
// the Client's timer thread, and runs `done` exactly once, on a gRPC thread,
// on the timer thread, on the thread that answered a collocated attempt
// (the adapter's policy thread; the calling thread for an inline adapter),
// or on the calling thread when the call fails before its first attempt. The Client must outlive every call; callback calls are
// counted (Client::BeginAsyncCall) until `done` has returned.
//
// Thread-safety: thread-safe functions.
#ifndef KORB_CLIENT_INTERNAL_INVOCATION_H_
#define KORB_CLIENT_INTERNAL_INVOCATION_H_

#include <functional>
#include <memory>

#include <grpcpp/support/byte_buffer.h>

#include "absl/status/statusor.h"
#include "client/call_options.h"
#include "client/client.h"
#include "client/internal/call_plan.h"
#include "client/internal/target.h"

namespace korb::internal {

using ReplyCallback = std::function<void(absl::StatusOr<grpc::ByteBuffer>)>;

// Runs operation `method` of `binding` (which must be OK) with the
// serialized `request`, blocking until it ends.
absl::StatusOr<grpc::ByteBuffer> InvokeBlocking(Client& client,
                                                const std::shared_ptr<const Binding>& binding,
                                                const StubConfig& config, int method,
                                                const grpc::ByteBuffer& request,
                                                const CallOptions& options);
// As InvokeBlocking, without blocking: `done` gets the outcome.
void InvokeAsync(Client& client, const std::shared_ptr<const Binding>& binding,
                 const StubConfig& config, int method, grpc::ByteBuffer request,
                 const CallOptions& options, ReplyCallback done);

// Runs `plan` to its end without blocking; `done` as for InvokeAsync.
void RunAsync(std::unique_ptr<CallPlan> plan, grpc::ByteBuffer request, ReplyCallback done);

}  // namespace korb::internal

#endif  // KORB_CLIENT_INTERNAL_INVOCATION_H_
