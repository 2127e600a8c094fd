#include "adapter/thread_per_connection_policy.h"

namespace korb {

ThreadPerConnectionPolicy::ThreadPerConnectionPolicy(absl::Duration idle_timeout,
                                                     size_t max_queued, size_t max_threads)
    : connections_("thread-per-connection", idle_timeout, max_queued, max_threads) {}

ThreadPerConnectionPolicy::~ThreadPerConnectionPolicy() { Shutdown(); }

void ThreadPerConnectionPolicy::Execute(PendingCall* call) {
  connections_.Execute(call, call->connection());
}

void ThreadPerConnectionPolicy::Shutdown() { connections_.Shutdown(); }

PolicyStats ThreadPerConnectionPolicy::Stats() const { return connections_.Stats(); }

}  // namespace korb
