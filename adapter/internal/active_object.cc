#include "adapter/internal/active_object.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace korb::internal {

absl::string_view ObjectStateName(ObjectState state) {
  switch (state) {
    case ObjectState::kPending:
      return "pending";
    case ObjectState::kIncarnating:
      return "incarnating";
    case ObjectState::kReady:
      return "ready";
    case ObjectState::kLeavingPending:
      return "leaving-pending";
    case ObjectState::kLeavingIncarnating:
      return "leaving-incarnating";
    case ObjectState::kLeaving:
      return "leaving";
    case ObjectState::kFailed:
      return "failed";
    case ObjectState::kEtherealizing:
      return "etherealizing";
    case ObjectState::kGone:
      return "gone";
  }
  return "unknown";
}

ObjectStateCounts ObjectCensus::Counts() const {
  auto count = [this](ObjectState state) { return counts_[static_cast<int>(state)]; };
  ObjectStateCounts counts;
  counts.pending = count(ObjectState::kPending);
  counts.incarnating = count(ObjectState::kIncarnating);
  counts.ready = count(ObjectState::kReady);
  counts.leaving = count(ObjectState::kLeavingPending) +
                   count(ObjectState::kLeavingIncarnating) + count(ObjectState::kLeaving);
  counts.failed = count(ObjectState::kFailed);
  counts.etherealizing = count(ObjectState::kEtherealizing);
  return counts;
}

absl::Status ActiveObject::Move(std::initializer_list<State> from, State to,
                                absl::string_view transition) {
  for (State allowed : from) {
    if (state_ != allowed) continue;
    if (census_ != nullptr) {
      census_->Remove(state_);
      // kGone objects are no longer the adapter's.
      if (to != State::kGone) census_->Add(to);
    }
    state_ = to;
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat("object '", absl::CHexEscape(id), "': ",
                                                    transition, " in state ",
                                                    ObjectStateName(state_)));
}

absl::Status ActiveObject::Publish(ObjectCensus* census) {
  if (census_ != nullptr || (state_ != State::kPending && state_ != State::kReady)) {
    return absl::FailedPreconditionError(absl::StrCat("object '", absl::CHexEscape(id),
                                                      "': Publish in state ",
                                                      ObjectStateName(state_)));
  }
  census_ = census;
  census_->Add(state_);
  return absl::OkStatus();
}

absl::Status ActiveObject::BeginIncarnation() {
  if (state_ == State::kLeavingPending) {
    return Move({State::kLeavingPending}, State::kLeavingIncarnating, "BeginIncarnation");
  }
  return Move({State::kPending}, State::kIncarnating, "BeginIncarnation");
}

absl::Status ActiveObject::FinishIncarnation(std::shared_ptr<Servant> incarnated,
                                             PersistentState* state) {
  absl::Status moved =
      state_ == State::kLeavingIncarnating
          ? Move({State::kLeavingIncarnating}, State::kLeaving, "FinishIncarnation")
          : Move({State::kIncarnating}, State::kReady, "FinishIncarnation");
  if (moved.ok()) {
    servant = std::move(incarnated);
    interface = &servant->korb_interface();
    persistent = state;
  }
  return moved;
}

absl::Status ActiveObject::FailIncarnation(absl::Status status) {
  absl::Status moved =
      Move({State::kIncarnating, State::kLeavingIncarnating}, State::kFailed, "FailIncarnation");
  if (moved.ok()) failure = std::move(status);
  return moved;
}

absl::Status ActiveObject::Leave(EtherealizeReason reason) {
  absl::Status moved;
  switch (state_) {
    case State::kPending:
      moved = Move({State::kPending}, State::kLeavingPending, "Leave");
      break;
    case State::kIncarnating:
      moved = Move({State::kIncarnating}, State::kLeavingIncarnating, "Leave");
      break;
    default:
      moved = Move({State::kReady}, State::kLeaving, "Leave");
      break;
  }
  if (moved.ok()) leave_reason = reason;
  return moved;
}

absl::Status ActiveObject::BeginEtherealization() {
  if (calls > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "object '", absl::CHexEscape(id), "': BeginEtherealization with ", calls,
        " calls bound"));
  }
  return Move({State::kLeaving, State::kLeavingPending, State::kFailed}, State::kEtherealizing,
              "BeginEtherealization");
}

absl::Status ActiveObject::FinishEtherealization() {
  return Move({State::kEtherealizing}, State::kGone, "FinishEtherealization");
}

void CheckTransition(const absl::Status& status) {
  if (status.ok()) return;
  KORB_LOG(kError, "adapter") << "illegal object lifecycle transition: " << status;
#ifndef NDEBUG
  std::abort();
#endif
}

}  // namespace korb::internal
