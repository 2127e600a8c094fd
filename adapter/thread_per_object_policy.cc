#include "adapter/thread_per_object_policy.h"

#include "absl/time/time.h"

namespace korb {

// A zero linger: a thread ends as soon as its object is inactive and drained.
ThreadPerObjectPolicy::ThreadPerObjectPolicy(size_t max_queued, size_t max_threads)
    : objects_("thread-per-object", absl::ZeroDuration(), max_queued, max_threads) {}

ThreadPerObjectPolicy::~ThreadPerObjectPolicy() { Shutdown(); }

void ThreadPerObjectPolicy::Execute(PendingCall* call) { objects_.Execute(call, call->object()); }

void ThreadPerObjectPolicy::OnObjectActivated(const void* object) { objects_.Pin(object); }

void ThreadPerObjectPolicy::OnObjectDeactivated(const void* object) { objects_.Unpin(object); }

void ThreadPerObjectPolicy::Shutdown() { objects_.Shutdown(); }

PolicyStats ThreadPerObjectPolicy::Stats() const { return objects_.Stats(); }

}  // namespace korb
