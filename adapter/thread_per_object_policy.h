// The thread-per-object threading policy (the seeds' thread-per-object
// server): every active object owns a thread and a FIFO queue, so the calls
// to one object run one at a time in arrival order (priority does not reorder
// them), and calls to different objects run in parallel. A servant under this
// policy needs no locking of its own state.
//
// Lifecycle of an object's thread:
//   - OnObjectActivated() starts it; it waits for calls while the object is
//     active, at no cost but its stack.
//   - OnObjectDeactivated() lets it end once it has run every call it holds.
//   - A call for an object without a thread (it raced with the deactivation,
//     or the adapter never announced the object, e.g. one incarnated per
//     request) starts one on demand, which ends as soon as its queue is empty:
//     no call is lost, and calls to that object never overlap.
//   - An identity activated again while its old thread still drains keeps
//     that thread (still one call at a time, in order).
// At most `max_queued` calls wait in all objects' queues together; beyond
// that Execute() rejects with RESOURCE_EXHAUSTED (korb-error: transient).
// Shutdown() rejects the waiting calls with UNAVAILABLE (transient), waits for
// the running ones and joins every thread.
//
// Thread-safety: thread-safe. Servant calls run on the objects' threads;
// Shutdown() must not be called from one of them (it aborts: it would wait
// for itself).
//
// Usage:
//   korb::AdapterOptions options;
//   options.threading = korb::ThreadingOptions::ThreadPerObject();
#ifndef KORB_ADAPTER_THREAD_PER_OBJECT_POLICY_H_
#define KORB_ADAPTER_THREAD_PER_OBJECT_POLICY_H_

#include <cstddef>

#include "adapter/internal/policy_keyed_threads.h"
#include "adapter/threading_policy.h"

namespace korb {

class ThreadPerObjectPolicy final : public ThreadingPolicy {
 public:
  // At most `max_queued` (> 0) calls wait in all queues together; at most
  // `max_threads` objects have a thread (0: no cap), calls to others are
  // rejected RESOURCE_EXHAUSTED (transient) until one is free.
  explicit ThreadPerObjectPolicy(size_t max_queued, size_t max_threads = 0);
  ~ThreadPerObjectPolicy() override;  // Shutdown()

  absl::string_view name() const override { return "thread-per-object"; }
  void Execute(PendingCall* call) override;
  void OnObjectActivated(const void* object) override;
  void OnObjectDeactivated(const void* object) override;
  void Shutdown() override;
  // threads: one per active object, plus on-demand ones still draining.
  PolicyStats Stats() const override;

 private:
  internal::KeyedThreads<const void*> objects_;
};

}  // namespace korb

#endif  // KORB_ADAPTER_THREAD_PER_OBJECT_POLICY_H_
