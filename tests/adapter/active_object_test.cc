// The object lifecycle state machine on its own (adapter/internal/
// active_object.h): every legal transition, every illegal one refused
// without a change, and the census of objects per state.
#include "adapter/internal/active_object.h"

#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_servants.h"

namespace korb::internal {
namespace {

using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using State = ObjectState;

constexpr State kAllStates[] = {
    State::kPending,  State::kIncarnating, State::kReady,         State::kLeavingPending,
    State::kLeavingIncarnating,            State::kLeaving,       State::kFailed,
    State::kEtherealizing,                 State::kGone,
};

// A published activator entry driven to `target` along the legal path.
std::unique_ptr<ActiveObject> ObjectIn(State target, ObjectCensus* census) {
  auto object = std::make_unique<ActiveObject>(State::kPending);
  object->id = "o";
  object->origin = ActiveObject::Origin::kActivator;
  EXPECT_THAT(object->Publish(census), IsOk());
  auto servant = std::make_shared<testing::EchoImpl>();
  auto step = [&](absl::Status status) { EXPECT_THAT(status, IsOk()); };
  switch (target) {
    case State::kPending:
      break;
    case State::kIncarnating:
      step(object->BeginIncarnation());
      break;
    case State::kReady:
      step(object->BeginIncarnation());
      step(object->FinishIncarnation(servant, nullptr));
      break;
    case State::kLeavingPending:
      step(object->Leave(EtherealizeReason::kDeactivated));
      break;
    case State::kLeavingIncarnating:
      step(object->BeginIncarnation());
      step(object->Leave(EtherealizeReason::kDeactivated));
      break;
    case State::kLeaving:
      step(object->BeginIncarnation());
      step(object->FinishIncarnation(servant, nullptr));
      step(object->Leave(EtherealizeReason::kEvicted));
      break;
    case State::kFailed:
      step(object->BeginIncarnation());
      step(object->FailIncarnation(absl::NotFoundError("no")));
      break;
    case State::kEtherealizing:
      step(object->Leave(EtherealizeReason::kDeactivated));
      step(object->BeginEtherealization());
      break;
    case State::kGone:
      step(object->Leave(EtherealizeReason::kDeactivated));
      step(object->BeginEtherealization());
      step(object->FinishEtherealization());
      break;
  }
  EXPECT_EQ(object->state(), target);
  return object;
}

// Every transition from every state: the legal ones (the diagram of
// active_object.h) move to their target, all others are refused and change
// nothing.
TEST(ActiveObjectLifecycle, EveryTransitionFromEveryState) {
  struct Transition {
    const char* name;
    absl::Status (*apply)(ActiveObject&);
    std::vector<std::pair<State, State>> legal;  // from -> to
  };
  const std::vector<Transition> transitions = {
      {"BeginIncarnation", [](ActiveObject& o) { return o.BeginIncarnation(); },
       {{State::kPending, State::kIncarnating},
        {State::kLeavingPending, State::kLeavingIncarnating}}},
      {"FinishIncarnation",
       [](ActiveObject& o) {
         return o.FinishIncarnation(std::make_shared<testing::EchoImpl>(), nullptr);
       },
       {{State::kIncarnating, State::kReady}, {State::kLeavingIncarnating, State::kLeaving}}},
      {"FailIncarnation",
       [](ActiveObject& o) { return o.FailIncarnation(absl::NotFoundError("no")); },
       {{State::kIncarnating, State::kFailed}, {State::kLeavingIncarnating, State::kFailed}}},
      {"Leave", [](ActiveObject& o) { return o.Leave(EtherealizeReason::kDeactivated); },
       {{State::kPending, State::kLeavingPending},
        {State::kIncarnating, State::kLeavingIncarnating},
        {State::kReady, State::kLeaving}}},
      {"BeginEtherealization", [](ActiveObject& o) { return o.BeginEtherealization(); },
       {{State::kLeavingPending, State::kEtherealizing},
        {State::kLeaving, State::kEtherealizing},
        {State::kFailed, State::kEtherealizing}}},
      {"FinishEtherealization", [](ActiveObject& o) { return o.FinishEtherealization(); },
       {{State::kEtherealizing, State::kGone}}},
  };
  int legal_seen = 0;
  for (const Transition& transition : transitions) {
    for (State from : kAllStates) {
      SCOPED_TRACE(absl::StrCat(transition.name, " from ", ObjectStateName(from)));
      ObjectCensus census;
      std::unique_ptr<ActiveObject> object = ObjectIn(from, &census);
      std::optional<State> to;
      for (const auto& [legal_from, legal_to] : transition.legal) {
        if (legal_from == from) to = legal_to;
      }
      absl::Status status = transition.apply(*object);
      if (to.has_value()) {
        ++legal_seen;
        EXPECT_THAT(status, IsOk());
        EXPECT_EQ(object->state(), *to);
      } else {
        EXPECT_THAT(status, StatusIs(absl::StatusCode::kFailedPrecondition));
        EXPECT_EQ(object->state(), from) << "a refused transition changed the state";
      }
      // The census follows the object, and forgets it once gone.
      ObjectStateCounts counts = census.Counts();
      size_t total = counts.pending + counts.incarnating + counts.ready + counts.leaving +
                     counts.failed + counts.etherealizing;
      EXPECT_EQ(total, object->state() == State::kGone ? 0u : 1u);
    }
  }
  EXPECT_EQ(legal_seen, 13);
}

// Only states up to kReady are in the map; the servant's interface is known
// once it is ready (also while it leaves), never before.
TEST(ActiveObjectLifecycle, MapMembershipAndKnownInterface) {
  for (State state : kAllStates) {
    SCOPED_TRACE(ObjectStateName(state));
    ObjectCensus census;
    std::unique_ptr<ActiveObject> object = ObjectIn(state, &census);
    EXPECT_EQ(object->in_map(), state <= State::kReady);
    EXPECT_EQ(object->known_interface() != nullptr,
              state == State::kReady || state == State::kLeaving);
  }
}

// An object left before it was ever ready remembers it: it still incarnates
// (for the calls bound to it), and becomes kLeaving, not kReady.
TEST(ActiveObjectLifecycle, LeftBeforeReadyStillIncarnates) {
  ObjectCensus census;
  std::unique_ptr<ActiveObject> object = ObjectIn(State::kPending, &census);
  object->calls = 2;
  ASSERT_THAT(object->Leave(EtherealizeReason::kDeactivated), IsOk());
  EXPECT_EQ(census.Counts().leaving, 1u);
  EXPECT_THAT(object->BeginEtherealization(), StatusIs(absl::StatusCode::kFailedPrecondition))
      << "etherealized with calls bound";
  ASSERT_THAT(object->BeginIncarnation(), IsOk());
  ASSERT_THAT(object->FinishIncarnation(std::make_shared<testing::EchoImpl>(), nullptr), IsOk());
  EXPECT_EQ(object->state(), State::kLeaving);
  EXPECT_NE(object->servant, nullptr);
  object->calls = 0;
  ASSERT_THAT(object->BeginEtherealization(), IsOk());
  ASSERT_THAT(object->FinishEtherealization(), IsOk());
  EXPECT_THAT(object->FinishEtherealization(), StatusIs(absl::StatusCode::kFailedPrecondition))
      << "etherealized twice";
}

// Publication happens once, from kPending or kReady, and counts the object.
TEST(ActiveObjectLifecycle, PublishOnce) {
  ObjectCensus census;
  ActiveObject object(State::kReady);
  EXPECT_FALSE(object.in_map()) << "not in the map before publication";
  ASSERT_THAT(object.Publish(&census), IsOk());
  EXPECT_TRUE(object.in_map());
  EXPECT_EQ(census.Counts().ready, 1u);
  EXPECT_THAT(object.Publish(&census), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(census.Counts().ready, 1u);
}

}  // namespace
}  // namespace korb::internal
