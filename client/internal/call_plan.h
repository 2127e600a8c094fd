// korb::internal::CallPlan: the decisions of one logical call — which
// endpoint each attempt goes to, how long to wait before it, whether a
// failure is retried, and which forwards to follow — kept apart from the
// transport so the blocking and the callback drivers (invocation.h) share
// them. One plan per call; its attempts run one after another.
//
// An attempt's life: Next() picks the endpoint (and the wait before it),
// Start() sets up the attempt's fresh grpc::ClientContext, the driver runs
// the gRPC call on channel()/rpc_method(), Finish() records what the answer
// says about the endpoint and decides: the call is over (TakeResult()), or
// another attempt follows (Next() again). An attempt whose endpoint is
// served in this process (OpenLocal() returns a call) is collocated
// instead: StartLocal(), the driver starts and awaits the CollocatedCall,
// FinishLocal() decides as Finish() does.
//
// What Finish() does with an answer, in order:
//   OK                        → done; if forwards were followed, the final
//                               location is cached for the stub's reference
//                               (if they led back to it, its entry dropped).
//   NOT_FOUND + forward       → follow korb-forward: same call, new target,
//                               no wait; fails past max_forward_hops or on a
//                               location visited before in this call (loop;
//                               a call starting at a cached location has not
//                               visited the original reference).
//   failure at a cached       → transient or object-not-exist: drop the
//   location                    cache entry, start over at the original
//                               reference (once per call).
//   the attempt's own timeout → a transient failure of its endpoint
//   (RetryPolicy::attempt_timeout)
//   transient failure         → retried if the call is retryable and has
//                               attempts left; the next attempt goes to an
//                               endpoint not yet tried if there is one (at
//                               once), else waits the backoff first.
//   anything else             → done, with that status.
//
// Thread-safety: not thread-safe; a driver calls it from one thread at a
// time (attempts are sequential; gRPC's completion happens-after Start).
#ifndef KORB_CLIENT_INTERNAL_CALL_PLAN_H_
#define KORB_CLIENT_INTERNAL_CALL_PLAN_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/client_context.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "adapter/internal/collocated.h"
#include "client/call_options.h"
#include "client/client.h"
#include "client/internal/target.h"
#include "client/policy.h"
#include "client/retry.h"

namespace korb::internal {

// One logical call's settings, resolved from its CallOptions, its stub and
// its Client. Copied into every plan (and every leg of a replicated call).
struct CallParams {
  absl::Time deadline = absl::InfiniteFuture();
  std::optional<int32_t> priority;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::shared_ptr<CancellationToken::State> cancellation;
  SelectionPolicy selection = SelectionPolicy::kOrderedFailover;
  RetryPolicy retry;           // max_attempts resolved for this call
  bool retryable = false;      // transient failures may be retried
  std::string request_id;      // korb-request-id; empty: none sent
  int max_forward_hops = 5;
  bool collocated = true;      // attempts may go to a server of this process directly
};

// An attempt's trailing metadata, however it arrived.
using TrailerView = absl::InlinedVector<std::pair<absl::string_view, absl::string_view>, 4>;

// Resolves `options` for a call of an operation with `semantics`.
// INVALID_ARGUMENT for a reserved metadata key or a malformed request id.
absl::StatusOr<CallParams> ResolveCallParams(const Client& client, const StubConfig& config,
                                             const MethodSemantics& semantics,
                                             const CallOptions& options);

// Turns a failed attempt's status (code and message) and trailing metadata
// into absl::Status carrying the korb-error kind.
absl::Status CallFailed(absl::Status status, const TrailerView& trailers);

class CallPlan {
 public:
  // `binding` must be OK. `pinned`: every attempt at the binding's own
  // target goes to that endpoint (one leg of an actively replicated call);
  // such a plan neither reads nor fills the location cache.
  CallPlan(Client& client, std::shared_ptr<const Binding> binding, int method,
           CallParams params, std::optional<size_t> pinned = std::nullopt);

  CallPlan(const CallPlan&) = delete;
  CallPlan& operator=(const CallPlan&) = delete;

  // Chooses the next attempt's endpoint and sets *delay to the wait before
  // it. Not OK: no attempt fits before the deadline; the call ends with
  // that status (the last failure's).
  absl::Status Next(absl::Duration* delay);
  // Sets up `context` (borrowed until Finish()) for the attempt Next()
  // chose. Not OK: the call ends with that status (it was cancelled).
  absl::Status Start(grpc::ClientContext* context);
  // Where the started attempt goes.
  grpc::ChannelInterface* channel() const;
  const grpc::internal::RpcMethod& rpc_method() const;
  // Ends the started attempt. True: the call is over, TakeResult() has its
  // outcome; false: call Next() for another attempt. `reply` is consumed.
  bool Finish(const grpc::Status& status, grpc::ByteBuffer* reply);
  absl::StatusOr<grpc::ByteBuffer> TakeResult() { return std::move(result_); }

  // A collocated call for the attempt Next() chose, if the call may be
  // collocated and a server of this process answers at its endpoint; else
  // null (the attempt goes over gRPC).
  std::shared_ptr<CollocatedCall> OpenLocal() const;
  // As Start(), for a collocated attempt: fills in `call` with `request`
  // and the attempt's headers and deadline, and attaches it to the call's
  // cancellation. Set the call's OnEnd() first, if any.
  absl::Status StartLocal(const std::shared_ptr<CollocatedCall>& call,
                          const grpc::ByteBuffer& request);
  // As Finish(), for a collocated attempt that has ended.
  bool FinishLocal(CollocatedCall& call);
  // The started attempt's deadline (the call's, or its attempt timeout).
  absl::Time attempt_deadline() const { return attempt_deadline_; }

  const CallParams& params() const { return params_; }
  Client& client() const { return *client_; }
  // The endpoint of the started (or last) attempt.
  const HostPort& endpoint() const { return current_->endpoints[endpoint_].address; }

 private:
  // The attempt's deadline from now, and the beginning of its accounting.
  void BeginAttempt(absl::Time now);
  // What Finish() and FinishLocal() share: `status` with its trailers.
  bool Conclude(absl::Status status, const TrailerView& trailers, grpc::ByteBuffer* reply);
  absl::Status FollowForward(const TrailerView& trailers);
  void MoveTo(std::shared_ptr<const Target> target);
  std::string Path() const;
  // True if this call's CANCELLED status comes from its own side: its token
  // was cancelled or its deadline has passed.
  bool CancelledByCaller(absl::Time now) const;

  Client* const client_;
  const std::shared_ptr<const Binding> binding_;
  const int method_;
  const CallParams params_;
  const std::optional<size_t> pinned_;
  const bool use_cache_;

  std::shared_ptr<const Target> current_;  // where attempts go now
  // The location cache's entry this call started at; null if it started at
  // the stub's reference or has fallen back to it.
  std::shared_ptr<const Target> cached_;
  bool moved_ = false;       // current_ was reached by following forwards
  std::vector<std::string> seen_;  // locations of this call, for loop detection
  int hops_ = 0;
  std::vector<bool> tried_;  // endpoints of current_ this call has tried

  Backoff backoff_;
  int failures_ = 0;          // transient failures so far
  bool retry_ = false;        // the next attempt is a retry
  absl::Status last_error_;   // the last transient failure

  size_t endpoint_ = 0;  // index into current_->endpoints
  grpc::ClientContext* context_ = nullptr;  // the started gRPC attempt's
  bool probe_ = false;
  absl::Time started_;
  absl::Time attempt_deadline_ = absl::InfiniteFuture();  // of the started attempt

  absl::StatusOr<grpc::ByteBuffer> result_;
};

}  // namespace korb::internal

#endif  // KORB_CLIENT_INTERNAL_CALL_PLAN_H_
