#include "tests/testing/in_memory_client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/wire.h"

namespace korb::testing {
namespace {

// A call nobody answers fails the test's wait instead of hanging it.
constexpr absl::Duration kNeverAnswered = absl::Seconds(60);

absl::Time DeadlineOf(const CallOptions& options) {
  if (options.deadline.has_value()) return *options.deadline;
  if (options.timeout.has_value()) return absl::Now() + *options.timeout;
  return absl::InfiniteFuture();
}

}  // namespace

InMemoryClient::~InMemoryClient() {
  std::vector<std::thread> waiters;
  {
    MutexLock lock(&mu_);
    waiters.swap(waiters_);
  }
  for (std::thread& waiter : waiters) waiter.join();
}

std::shared_ptr<InMemoryCall> InMemoryClient::Start(const Ref& ref, absl::string_view method_path,
                                                    std::string payload,
                                                    const CallOptions& options) const {
  InMemoryRequest request;
  request.method_path = std::string(method_path);
  request.object_key = EncodeObjectKey(ref.adapter(), ref.id());
  request.payload = std::move(payload);
  request.deadline = DeadlineOf(options);
  if (options.priority.has_value()) {
    request.metadata.emplace_back(std::string(kPriorityHeader), absl::StrCat(*options.priority));
  }
  if (options.request_id.has_value()) {
    request.metadata.emplace_back(std::string(kRequestIdHeader), *options.request_id);
  }
  for (const auto& entry : options.metadata) request.metadata.push_back(entry);
  return InMemoryCall::Start(*server_, std::move(request));
}

absl::StatusOr<std::string> InMemoryClient::Finish(const std::shared_ptr<InMemoryCall>& call,
                                                   const CallOptions& options) {
  const absl::Time deadline = DeadlineOf(options);
  const absl::Time give_up = absl::Now() + kNeverAnswered;
  // Polls the token (it has no callback); otherwise waits for the answer or
  // the deadline in one go.
  for (;;) {
    absl::Time until = std::min(deadline, give_up);
    if (options.cancellation != nullptr) until = std::min(until, absl::Now() + absl::Milliseconds(1));
    if (call->Wait(std::max(absl::ZeroDuration(), until - absl::Now()))) break;
    if (options.cancellation != nullptr && options.cancellation->cancelled()) {
      call->Cancel();
      return absl::CancelledError("cancelled by the caller");
    }
    if (absl::Now() >= deadline) {
      call->Cancel();
      return absl::DeadlineExceededError("deadline exceeded");
    }
    if (absl::Now() >= give_up) {
      call->Cancel();
      return absl::DeadlineExceededError("in-memory call not answered within 60 s");
    }
  }
  const InMemoryReply& reply = call->reply();
  if (!reply.status.ok()) {
    ErrorKind kind = ParseErrorKind(reply.korb_error());
    return kind == ErrorKind::kNone ? reply.status : WithErrorKind(reply.status, kind);
  }
  return reply.body;
}

absl::StatusOr<std::string> InMemoryClient::Call(const Ref& ref, absl::string_view method_path,
                                                 std::string payload,
                                                 const CallOptions& options) const {
  return Finish(Start(ref, method_path, std::move(payload), options), options);
}

void InMemoryClient::Spawn(std::function<void()> waiter) {
  MutexLock lock(&mu_);
  waiters_.emplace_back(std::move(waiter));
}

}  // namespace korb::testing
