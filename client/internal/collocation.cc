#include "client/internal/collocation.h"

#include <atomic>
#include <utility>

namespace korb::internal {
namespace {

std::atomic<const CollocationOps*> installed{nullptr};

}  // namespace

void InstallCollocationOps(const CollocationOps* ops) {
  installed.store(ops, std::memory_order_release);
}

std::shared_ptr<CollocatedCall> OpenCollocated(const HostPort& endpoint) {
  const CollocationOps* ops = installed.load(std::memory_order_acquire);
  return ops == nullptr ? nullptr : ops->open(endpoint);
}

// A call exists only if Open() found the operations installed.
void StartCollocated(std::shared_ptr<CollocatedCall> call) {
  installed.load(std::memory_order_acquire)->start(std::move(call));
}

void OnCollocatedEnd(CollocatedCall& call, std::function<void()> done) {
  installed.load(std::memory_order_acquire)->on_end(call, std::move(done));
}

void AbandonCollocated(CollocatedCall& call, absl::Status status) {
  installed.load(std::memory_order_acquire)->abandon(call, std::move(status));
}

void WaitCollocated(CollocatedCall& call, absl::Time deadline) {
  installed.load(std::memory_order_acquire)->wait(call, deadline);
}

}  // namespace korb::internal
