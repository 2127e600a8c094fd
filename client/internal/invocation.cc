#include "client/internal/invocation.h"

#include <utility>

#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/support/client_callback.h>

#include "absl/time/clock.h"
#include "client/internal/cancellation.h"
#include "client/internal/replicated_call.h"
#include "client/internal/timer_queue.h"
#include "common/sync.h"

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
    ReplyCallback done = std::move(done_);
    delete this;
    done(std::move(result));
    client->EndAsyncCall();
  }

  const std::unique_ptr<CallPlan> plan_;
  const grpc::ByteBuffer request_;
  ReplyCallback done_;
  std::unique_ptr<grpc::ClientContext> context_;  // the attempt in flight
  grpc::ByteBuffer reply_;
};

absl::StatusOr<grpc::ByteBuffer> RunBlocking(CallPlan& plan, const grpc::ByteBuffer& request) {
  while (true) {
    absl::Duration delay;
    absl::Status status = plan.Next(&delay);
    if (!status.ok()) return status;
    SleepUnlessCancelled(plan.params().cancellation.get(), delay);
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
  if (IsReplicated(*binding, config, method)) {
    korb::Notification done;
    absl::StatusOr<grpc::ByteBuffer> result;
    InvokeReplicated(client, binding, config.completion, method, *std::move(params), request,
                     [&done, &result](absl::StatusOr<grpc::ByteBuffer> reply) {
                       result = std::move(reply);
                       done.Notify();
                     });
    done.WaitForNotification();
    return result;
  }
  CallPlan plan(client, binding, method, *std::move(params));
  return RunBlocking(plan, request);
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
  if (IsReplicated(*binding, config, method)) {
    InvokeReplicated(client, binding, config.completion, method, *std::move(params),
                     std::move(request), std::move(done));
    return;
  }
  RunAsync(std::make_unique<CallPlan>(client, binding, method, *std::move(params)),
           std::move(request), std::move(done));
}

}  // namespace korb::internal
