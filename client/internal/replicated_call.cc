#include "client/internal/replicated_call.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/retry.h"
#include "common/sync.h"
#include "common/wire.h"

namespace korb::internal {
namespace {

using Result = absl::StatusOr<grpc::ByteBuffer>;

// A leg that ended without an answer from its replica.
bool IsNoAnswer(const absl::Status& status) {
  return IsTransientFailure(status) || status.code() == absl::StatusCode::kDeadlineExceeded ||
         status.code() == absl::StatusCode::kCancelled ||
         ErrorKindOf(status) == ErrorKind::kForward;
}

std::string BytesOf(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (!buffer.Dump(&slices).ok()) return bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes;
}

class ReplicatedCall {
 public:
  ReplicatedCall(Completion completion, const std::vector<Endpoint>& endpoints,
                 ReplyCallback done)
      : completion_(completion), pending_(endpoints.size()), done_(std::move(done)) {
    for (const Endpoint& endpoint : endpoints) legs_.emplace_back().endpoint = endpoint.address;
  }

  // Leg `i` ended with `result`; completes the call if that decides it.
  void OnLeg(size_t i, Result result) ABSL_LOCKS_EXCLUDED(mu_) {
    std::optional<Result> decision;
    ReplyCallback done;
    {
      korb::MutexLock lock(&mu_);
      Leg& leg = legs_[i];
      leg.answered = result.ok() || !IsNoAnswer(result.status());
      if (leg.answered) {
        leg.vote = result.ok() ? absl::StrCat("+", BytesOf(*result))
                               : absl::StrCat("-", static_cast<int>(result.status().code()), ":",
                                              result.status().message());
      }
      leg.result = std::move(result);
      leg.done = true;
      --pending_;
      arrival_.push_back(i);
      if (!decided_) {
        decision = DecideLocked();
        if (decision.has_value()) {
          decided_ = true;
          done = std::move(done_);
        }
      }
    }
    if (done) done(*std::move(decision));
  }

 private:
  struct Leg {
    HostPort endpoint;
    bool done = false;
    bool answered = false;
    std::string vote;  // what agreement compares, for answers
    Result result = absl::UnknownError("leg pending");
  };
  struct Group {
    const std::string* vote;
    std::vector<size_t> legs;  // reference order
  };

  std::optional<Result> DecideLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const size_t n = legs_.size();
    const size_t majority = n / 2 + 1;
    std::vector<Group> groups;
    std::vector<size_t> missing;
    for (size_t i = 0; i < n; ++i) {
      if (!legs_[i].done) continue;
      if (!legs_[i].answered) {
        missing.push_back(i);
        continue;
      }
      Group* group = nullptr;
      for (Group& g : groups) {
        if (*g.vote == legs_[i].vote) group = &g;
      }
      if (group == nullptr) group = &groups.emplace_back(Group{&legs_[i].vote, {}});
      group->legs.push_back(i);
    }
    switch (completion_) {
      case Completion::kFirst:
        for (size_t i : arrival_) {
          if (legs_[i].result.ok()) return legs_[i].result;
        }
        if (pending_ > 0) return std::nullopt;
        for (size_t i = 0; i < n; ++i) {
          if (legs_[i].answered) return legs_[i].result;
        }
        return Missing(missing, groups);
      case Completion::kMajority: {
        const Group* best = nullptr;
        for (const Group& g : groups) {
          if (best == nullptr || g.legs.size() > best->legs.size()) best = &g;
        }
        const size_t agreed = best == nullptr ? 0 : best->legs.size();
        if (agreed >= majority) return legs_[best->legs.front()].result;
        if (agreed + pending_ >= majority) return std::nullopt;
        if (groups.size() > 1) return Disagree(missing, groups);
        return Missing(missing, groups);
      }
      case Completion::kAll:
        if (pending_ > 0) return std::nullopt;
        if (groups.size() > 1) return Disagree(missing, groups);
        if (missing.empty()) return legs_[groups.front().legs.front()].result;
        return Missing(missing, groups);
    }
    return std::nullopt;
  }

  std::string Names(const std::vector<size_t>& legs) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return absl::StrJoin(legs, ", ", [this](std::string* out, size_t i) {
      out->append(legs_[i].endpoint.ToString());
    });
  }

  std::string NoAnswers(const std::vector<size_t>& missing) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return absl::StrJoin(missing, ", ", [this](std::string* out, size_t i) {
      absl::StrAppend(out, legs_[i].endpoint.ToString(), " (",
                      legs_[i].result.status().ToString(), ")");
    });
  }

  // ABORTED: the answers differ.
  absl::Status Disagree(const std::vector<size_t>& missing, const std::vector<Group>& groups) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<std::string> parts;
    int reply_number = 0;
    for (const Group& g : groups) {
      const Result& answer = legs_[g.legs.front()].result;
      std::string what = answer.ok()
                             ? absl::StrCat("reply #", ++reply_number, " (",
                                            g.vote->size() - 1, " bytes)")
                             : answer.status().ToString();
      parts.push_back(absl::StrCat(Names(g.legs), " answered ", what));
    }
    std::string message = absl::StrCat("replicas disagree: ", absl::StrJoin(parts, "; "));
    if (!missing.empty()) absl::StrAppend(&message, "; no answer from ", NoAnswers(missing));
    return absl::AbortedError(message);
  }

  // The first missing leg's error, naming every replica without an answer.
  absl::Status Missing(const std::vector<size_t>& missing, const std::vector<Group>& groups) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const absl::Status& first = legs_[missing.front()].result.status();
    std::string message = absl::StrCat(missing.size(), " of ", legs_.size(),
                                       " replicas did not answer: ", NoAnswers(missing));
    if (!groups.empty()) {
      absl::StrAppend(&message, "; ", Names(groups.front().legs), " answered alike");
    }
    absl::Status status(first.code(), message);
    first.ForEachPayload([&status](absl::string_view url, const absl::Cord& payload) {
      status.SetPayload(url, payload);
    });
    return status;
  }

  const Completion completion_;
  mutable korb::Mutex mu_;
  std::vector<Leg> legs_ ABSL_GUARDED_BY(mu_);  // reference order
  size_t pending_ ABSL_GUARDED_BY(mu_);
  std::vector<size_t> arrival_ ABSL_GUARDED_BY(mu_);  // legs in the order they ended
  bool decided_ ABSL_GUARDED_BY(mu_) = false;
  ReplyCallback done_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

void InvokeReplicated(Client& client, const std::shared_ptr<const Binding>& binding,
                      Completion completion, int method, CallParams params,
                      grpc::ByteBuffer request, ReplyCallback done) {
  const std::vector<Endpoint>& endpoints = binding->target->endpoints;
  auto call = std::make_shared<ReplicatedCall>(completion, endpoints, std::move(done));
  for (size_t i = 0; i < endpoints.size(); ++i) {
    RunAsync(std::make_unique<CallPlan>(client, binding, method, params, i), request,
             [call, i](Result result) { call->OnLeg(i, std::move(result)); });
  }
}

}  // namespace korb::internal
