#include "client/internal/collocation.h"
#include "client/internal/invocation.h"

#include <optional>
#include <utility>

#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/support/client_callback.h>

#include "absl/time/clock.h"
#include "client/internal/cancellation.h"
#include "client/internal/name_resolver.h"
#include "client/internal/replicated_call.h"
#include "client/internal/timer_queue.h"
#include "client/retry.h"
#include "common/sync.h"
#include "common/wire.h"

namespace korb::internal {
namespace {

// One CallPlan run by gRPC's callback API. Owns itself from Start() until it
// completes; each step runs on whichever thread ended the previous one.
class AsyncRun {
 public:
  static void Start(std::unique_ptr<CallPlan> plan, grpc::ByteBuffer request, ReplyCallback done) {
    plan->client().BeginAsyncCall();
    (new AsyncRun(std::move(plan), std::move(request), std::move(done)))->Step();
  }

 private:
  AsyncRun(std::unique_ptr<CallPlan> plan, grpc::ByteBuffer request, ReplyCallback done)
      : plan_(std::move(plan)), request_(std::move(request)), done_(std::move(done)) {}

  // Picks the next attempt and launches it, after its wait if it has one.
  void Step() {
    absl::Duration delay;
    absl::Status status = plan_->Next(&delay);
    if (!status.ok()) {
      Complete(std::move(status));
      return;
    }
    if (delay <= absl::ZeroDuration()) {
      Launch();
      return;
    }
    TimerQueue& timers = plan_->client().timers();
    CancellationToken::State* cancellation = plan_->params().cancellation.get();
    const uint64_t id = timers.Reserve();
    AttachWait(cancellation, &timers, id);
    HappensBefore(this);
    timers.Schedule(id, absl::Now() + delay, [this, cancellation, &timers, id] {
      HappensAfter(this);
      DetachWait(cancellation, &timers, id);
      Launch();
    });
  }

  void Launch() {
    if (std::shared_ptr<CollocatedCall> local = plan_->OpenLocal()) {
      LaunchLocal(std::move(local));
      return;
    }
    context_ = std::make_unique<grpc::ClientContext>();
    absl::Status status = plan_->Start(context_.get());
    if (!status.ok()) {
      Complete(std::move(status));
      return;
    }
    HappensBefore(this);  // the completion runs on a gRPC thread
    grpc::internal::CallbackUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
        plan_->channel(), plan_->rpc_method(), context_.get(), &request_, &reply_,
        [this](grpc::Status status) {
          HappensAfter(this);
          Attempted(status);
        });
  }

  // A collocated attempt. It ends on the thread that answers it (this one,
  // for an inline adapter), on the timer thread at its deadline, or on the
  // thread that cancels it; `this` may be gone once it is handed over.
  void LaunchLocal(std::shared_ptr<CollocatedCall> local) {
    absl::Status status = plan_->StartLocal(local, request_);
    if (!status.ok()) {
      Complete(std::move(status));
      return;
    }
    // From StartLocal() on, a cancellation may end the attempt; it runs on
    // once OnEnd() is set.
    local_ = local;
    const absl::Time deadline = plan_->attempt_deadline();
    if (deadline != absl::InfiniteFuture()) {
      TimerQueue& timers = plan_->client().timers();
      deadline_timer_ = timers.Reserve();
      timers.Schedule(deadline_timer_, deadline, [local] {
        AbandonCollocated(*local, absl::DeadlineExceededError("Deadline Exceeded"));
      });
    }
    OnCollocatedEnd(*local, [this] { AttemptedLocal(); });
    StartCollocated(std::move(local));
  }

  void AttemptedLocal() {
    if (deadline_timer_ != 0) {
      plan_->client().timers().Cancel(deadline_timer_);
      deadline_timer_ = 0;
    }
    std::shared_ptr<CollocatedCall> local = std::move(local_);
    const bool over = plan_->FinishLocal(*local);
    local.reset();
    if (over) {
      Complete(plan_->TakeResult());
    } else {
      Step();
    }
  }

  void Attempted(const grpc::Status& status) {
    const bool over = plan_->Finish(status, &reply_);
    context_.reset();
    reply_.Clear();
    if (over) {
      Complete(plan_->TakeResult());
    } else {
      Step();
    }
  }

  void Complete(absl::StatusOr<grpc::ByteBuffer> result) {
    Client* client = &plan_->client();
    {
      ReplyCallback done = std::move(done_);
      delete this;
      done(std::move(result));
      // `done` and what it holds (bindings, hence channels) go before the
      // Client may: once EndAsyncCall() returns, ~Client can finish. Dropping
      // a Client's last channel here, on gRPC's callback thread, would also
      // make gRPC join that very thread (a crash in
      // grpc_completion_queue_next).
    }
    client->EndAsyncCall();
  }

  const std::unique_ptr<CallPlan> plan_;
  const grpc::ByteBuffer request_;
  ReplyCallback done_;
  std::unique_ptr<grpc::ClientContext> context_;  // the attempt in flight
  grpc::ByteBuffer reply_;
  std::shared_ptr<CollocatedCall> local_;  // the collocated attempt in flight
  uint64_t deadline_timer_ = 0;            // its deadline's timer, if any
};

absl::StatusOr<grpc::ByteBuffer> RunBlocking(CallPlan& plan, const grpc::ByteBuffer& request) {
  while (true) {
    absl::Duration delay;
    absl::Status status = plan.Next(&delay);
    if (!status.ok()) return status;
    SleepUnlessCancelled(plan.params().cancellation.get(), delay);
    if (std::shared_ptr<CollocatedCall> local = plan.OpenLocal()) {
      status = plan.StartLocal(local, request);
      if (!status.ok()) return status;
      StartCollocated(local);
      WaitCollocated(*local, plan.attempt_deadline());
      if (plan.FinishLocal(*local)) return plan.TakeResult();
      continue;
    }
    grpc::ClientContext context;
    status = plan.Start(&context);
    if (!status.ok()) return status;
    grpc::ByteBuffer reply;
    grpc::Status answer = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
        plan.channel(), plan.rpc_method(), &context, request, &reply);
    if (plan.Finish(answer, &reply)) return plan.TakeResult();
  }
}

bool IsReplicated(const Binding& binding, const StubConfig& config, int method) {
  return config.replication == Replication::kActive &&
         !binding.interface->methods[method].semantics.readonly &&
         binding.target->endpoints.size() > 1;
}

// Runs a call on the direct reference of `binding`, blocking.
absl::StatusOr<grpc::ByteBuffer> RunDirectBlocking(Client& client,
                                                   const std::shared_ptr<const Binding>& binding,
                                                   const StubConfig& config, int method,
                                                   const grpc::ByteBuffer& request,
                                                   CallParams params) {
  if (IsReplicated(*binding, config, method)) {
    korb::Notification done;
    absl::StatusOr<grpc::ByteBuffer> result;
    InvokeReplicated(client, binding, config.completion, method, std::move(params), request,
                     [&done, &result](absl::StatusOr<grpc::ByteBuffer> reply) {
                       result = std::move(reply);
                       done.Notify();
                     });
    done.WaitForNotification();
    return result;
  }
  CallPlan plan(client, binding, method, std::move(params));
  return RunBlocking(plan, request);
}

// Runs a call on the direct reference of `binding` without blocking.
void RunDirectAsync(Client& client, const std::shared_ptr<const Binding>& binding,
                    const StubConfig& config, int method, grpc::ByteBuffer request,
                    CallParams params, ReplyCallback done) {
  if (IsReplicated(*binding, config, method)) {
    InvokeReplicated(client, binding, config.completion, method, std::move(params),
                     std::move(request), std::move(done));
    return;
  }
  RunAsync(std::make_unique<CallPlan>(client, binding, method, std::move(params)),
           std::move(request), std::move(done));
}

// After a call through a resolved name failed with `status`: true if the
// resolution may be what failed (every endpoint failed, or the object is
// not there), so the name is to be resolved again.
bool ResolutionFailed(const absl::Status& status) {
  return !status.ok() &&
         (IsTransientFailure(status) || ErrorKindOf(status) == ErrorKind::kObjectNotExist);
}

// True if a call that failed so may run again on a new resolution: it did
// not run (object-not-exist), or it may be retried anyway.
bool MayRunAgain(const absl::Status& status, const CallParams& params) {
  return (params.retryable || ErrorKindOf(status) == ErrorKind::kObjectNotExist) &&
         absl::Now() < params.deadline;
}

// A call through an indirect reference: look the name up, run the call on
// its resolution; if that failed on every endpoint or lacked the object,
// resolve again and, if the name now leads elsewhere and the call may run
// again, run it there (once). `failed`: the resolution and outcome of the
// first run, on the second lookup.
struct FailedRun {
  Ref resolved;
  absl::StatusOr<grpc::ByteBuffer> result;
};

void RunIndirectAsync(Client& client, std::shared_ptr<const Binding> indirect,
                      StubConfig config, int method, grpc::ByteBuffer request, CallParams params,
                      ReplyCallback done, std::shared_ptr<FailedRun> failed) {
  const absl::Time deadline = params.deadline;
  const Binding& name = *indirect;
  client.names().Lookup(
      name, deadline,
      [&client, indirect = std::move(indirect), config, method, request = std::move(request),
       params = std::move(params), done = std::move(done),
       failed = std::move(failed)](absl::StatusOr<std::shared_ptr<const Binding>> resolved) mutable {
        if (!resolved.ok()) {
          done(resolved.status());
          return;
        }
        std::shared_ptr<const Binding> direct = *std::move(resolved);
        if (!direct->status.ok()) {
          done(direct->status);
          return;
        }
        if (failed != nullptr && failed->resolved == direct->ref) {
          // The name still leads where the call failed.
          done(std::move(failed->result));
          return;
        }
        const bool first = failed == nullptr;
        ReplyCallback finish = [&client, indirect, config, method, request, params, direct, first,
                                done](absl::StatusOr<grpc::ByteBuffer> result) mutable {
          if (ResolutionFailed(result.status())) {
            client.names().Invalidate(*indirect, direct->ref);
            if (first && MayRunAgain(result.status(), params)) {
              auto run = std::make_shared<FailedRun>(FailedRun{direct->ref, std::move(result)});
              RunIndirectAsync(client, std::move(indirect), config, method, std::move(request),
                               std::move(params), std::move(done), std::move(run));
              return;
            }
          }
          done(std::move(result));
        };
        RunDirectAsync(client, direct, config, method, request, params, std::move(finish));
      });
}

}  // namespace

void RunAsync(std::unique_ptr<CallPlan> plan, grpc::ByteBuffer request, ReplyCallback done) {
  AsyncRun::Start(std::move(plan), std::move(request), std::move(done));
}

absl::StatusOr<grpc::ByteBuffer> InvokeBlocking(Client& client,
                                                const std::shared_ptr<const Binding>& binding,
                                                const StubConfig& config, int method,
                                                const grpc::ByteBuffer& request,
                                                const CallOptions& options) {
  absl::StatusOr<CallParams> params = ResolveCallParams(
      client, config, binding->interface->methods[method].semantics, options);
  if (!params.ok()) return params.status();
  if (!binding->ref.is_indirect()) {
    return RunDirectBlocking(client, binding, config, method, request, *std::move(params));
  }
  // As RunIndirectAsync, on the calling thread.
  std::optional<FailedRun> failed;
  while (true) {
    absl::StatusOr<std::shared_ptr<const Binding>> resolved =
        client.names().LookupBlocking(*binding, params->deadline);
    if (!resolved.ok()) return resolved.status();
    const std::shared_ptr<const Binding>& direct = *resolved;
    if (!direct->status.ok()) return direct->status;
    if (failed.has_value() && failed->resolved == direct->ref) return std::move(failed->result);
    absl::StatusOr<grpc::ByteBuffer> result =
        RunDirectBlocking(client, direct, config, method, request, *params);
    if (!ResolutionFailed(result.status())) return result;
    client.names().Invalidate(*binding, direct->ref);
    if (failed.has_value() || !MayRunAgain(result.status(), *params)) return result;
    failed.emplace(FailedRun{direct->ref, std::move(result)});
  }
}

void InvokeAsync(Client& client, const std::shared_ptr<const Binding>& binding,
                 const StubConfig& config, int method, grpc::ByteBuffer request,
                 const CallOptions& options, ReplyCallback done) {
  absl::StatusOr<CallParams> params = ResolveCallParams(
      client, config, binding->interface->methods[method].semantics, options);
  if (!params.ok()) {
    done(params.status());
    return;
  }
  if (binding->ref.is_indirect()) {
    RunIndirectAsync(client, binding, config, method, std::move(request), *std::move(params),
                     std::move(done), nullptr);
    return;
  }
  RunDirectAsync(client, binding, config, method, std::move(request), *std::move(params),
                 std::move(done));
}

}  // namespace korb::internal
