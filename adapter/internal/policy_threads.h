// internal::PolicyThreads: the threads of one threading policy, which come and
// go while the policy runs (grown pool workers, cached request threads, object
// and connection threads) and are all joined when it shuts down.
//
// A thread that ends on its own is joined by the next thread that ends (or by
// JoinAll()), never by Start(): starting a thread never waits for another one,
// so a policy can start threads from Execute(), which must not block.
//
// The policy keeps its own count of threads it expects to run (under its own
// mutex, counting a thread from the moment it decides to start one until the
// thread's body returns). Its Shutdown() waits for that count to reach zero
// and then calls JoinAll(), which then finds every thread: a Start() whose
// thread already ran its body has registered it.
//
// Thread-safety: thread-safe.
//
// Usage:
//   absl::Status started = threads_.Start([this] { WorkerLoop(); });
//   ...
//   threads_.JoinAll();  // in Shutdown(), after every body has returned
#ifndef KORB_ADAPTER_INTERNAL_POLICY_THREADS_H_
#define KORB_ADAPTER_INTERNAL_POLICY_THREADS_H_

#include <cstdint>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/sync.h"

namespace korb {
namespace internal {

class PolicyThreads {
 public:
  PolicyThreads() = default;
  PolicyThreads(const PolicyThreads&) = delete;
  PolicyThreads& operator=(const PolicyThreads&) = delete;
  // JoinAll(). Every body must have returned or be about to.
  ~PolicyThreads();

  // Runs `body` on a new thread. RESOURCE_EXHAUSTED (transient) if the system
  // refuses a thread; `body` is then destroyed without running.
  absl::Status Start(absl::AnyInvocable<void() &&> body) ABSL_LOCKS_EXCLUDED(mu_);

  // Joins every thread registered so far, including those that end while it
  // waits. Must not be called from one of these threads.
  void JoinAll() ABSL_LOCKS_EXCLUDED(mu_);

  // True on a thread this set started (while its body runs).
  bool OnOwnThread() const;

  // Aborts the process with a message naming `policy` if called on one of
  // this set's threads: a policy's Shutdown() waits for its threads and would
  // deadlock (the ThreadingPolicy contract forbids the call).
  void CheckNotOwnThread(absl::string_view policy) const;

 private:
  // Called by thread `id` as its last act: moves its handle to exited_ and
  // joins the threads that ended before it.
  void Retire(uint64_t id) ABSL_LOCKS_EXCLUDED(mu_);

  korb::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  // Threads whose bodies may still run, by id.
  absl::flat_hash_map<uint64_t, std::thread> running_ ABSL_GUARDED_BY(mu_);
  // Threads that have returned from their body, to be joined.
  std::vector<std::thread> exited_ ABSL_GUARDED_BY(mu_);
};

}  // namespace internal
}  // namespace korb

#endif  // KORB_ADAPTER_INTERNAL_POLICY_THREADS_H_
