// Active replication: one call sent to every replica of an object at once,
// its replies compared (Replication::kActive, for operations that are not
// readonly).
//
// Each endpoint of the stub's reference gets a leg: a CallPlan pinned to
// that endpoint, with the call's deadline, priority, metadata and one shared
// korb-request-id (so a leg's retries, and a caller's retry of the whole
// call with CallOptions::request_id, execute at most once per replica).
// Legs follow forwards but bypass the location cache.
//
// A leg's outcome is an answer — an OK reply, or an error status a server
// sent (FAILED_PRECONDITION, NOT_FOUND object-not-exist, ...) — or no
// answer: a transient failure, DEADLINE_EXCEEDED, CANCELLED, or a forward
// that could not be followed. Answers agree when they are byte-identical
// serialized replies, or errors with the same code and message.
//
// Completion (n legs, majority m = n/2 + 1):
//   kFirst     the first OK reply. Without one, once all legs are done: the
//              answer of the first replica, in reference order, that
//              answered; else the "no replica answered" error.
//   kMajority  the answer m replicas agree on, as soon as they do. When no
//              answer can reach m any more: ABORTED "replicas disagree" if
//              answers differed, else the first missing leg's error (code
//              and korb-error kept) naming every replica that did not answer.
//   kAll       once every leg is done: the common answer if all n answered
//              alike; ABORTED "replicas disagree" if answers differed; else
//              the first missing leg's error, naming the replicas that did
//              not answer (the others did execute the call: retry it with
//              the same CallOptions::request_id).
// Legs still running when the call completes run on to the end (a write
// must reach every replica); only their results are discarded.
//
// Thread-safety: thread-safe.
#ifndef KORB_CLIENT_INTERNAL_REPLICATED_CALL_H_
#define KORB_CLIENT_INTERNAL_REPLICATED_CALL_H_

#include <memory>

#include <grpcpp/support/byte_buffer.h>

#include "client/client.h"
#include "client/internal/call_plan.h"
#include "client/internal/invocation.h"
#include "client/internal/target.h"
#include "client/policy.h"

namespace korb::internal {

// Starts the legs of an actively replicated call of `method` on every
// endpoint of `binding` (OK, at least one endpoint); `done` runs once, as
// InvokeAsync's does.
void InvokeReplicated(Client& client, const std::shared_ptr<const Binding>& binding,
                      Completion completion, int method, CallParams params,
                      grpc::ByteBuffer request, ReplyCallback done);

}  // namespace korb::internal

#endif  // KORB_CLIENT_INTERNAL_REPLICATED_CALL_H_
