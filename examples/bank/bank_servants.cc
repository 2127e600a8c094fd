#include "bank/bank_servants.h"

#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "adapter/object_adapter.h"
#include "common/wire.h"

namespace bank {
namespace {

absl::Status CheckPositive(const Amount& amount) {
  if (amount.cents() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("amount must be positive, got ", amount.cents(), " cents"));
  }
  return absl::OkStatus();
}

Balance MakeBalance(int64_t cents) {
  Balance balance;
  balance.set_cents(cents);
  return balance;
}

}  // namespace

bool IsAccountId(absl::string_view id) {
  uint64_t n;
  return absl::StartsWith(id, kAccountIdPrefix) &&
         absl::SimpleAtoi(id.substr(kAccountIdPrefix.size()), &n) && n > 0;
}

absl::StatusOr<Balance> AccountImpl::Deposit(korb::CallContext& context, const Amount& amount) {
  if (absl::Status s = CheckPositive(amount); !s.ok()) return s;
  return Apply(context, amount.cents());
}

absl::StatusOr<Balance> AccountImpl::Withdraw(korb::CallContext& context, const Amount& amount) {
  if (absl::Status s = CheckPositive(amount); !s.ok()) return s;
  return Apply(context, -amount.cents());
}

absl::StatusOr<Balance> AccountImpl::Apply(korb::CallContext& context, int64_t delta) {
  std::optional<absl::string_view> request_id;
  if (record_requests_) request_id = context.Metadata(korb::kRequestIdHeader);
  korb::MutexLock lock(&mu_);
  if (request_id.has_value()) {
    // A retry whose first attempt was applied and saved, but whose reply was
    // lost with a crashed server: answer it as the first attempt was.
    for (const AppliedRequest& applied : applied_) {
      if (applied.request_id() == *request_id) return MakeBalance(applied.cents_after());
    }
  }
  int64_t after;
  if (__builtin_add_overflow(cents_, delta, &after)) {
    // Refused, never wrapped: a deposit that would overflow the balance.
    return absl::OutOfRangeError(absl::StrCat("balance of ", cents_, " cents cannot take ",
                                              delta, " cents more"));
  }
  if (after < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "insufficient funds: balance is ", cents_, " cents, withdrawal is ", -delta, " cents"));
  }
  cents_ = after;
  if (request_id.has_value()) {
    AppliedRequest& applied = applied_.emplace_back();
    applied.set_request_id(std::string(*request_id));
    applied.set_cents_after(cents_);
    if (applied_.size() > kRememberedRequests) applied_.pop_front();
  }
  return MakeBalance(cents_);
}

absl::StatusOr<Balance> AccountImpl::GetBalance(korb::CallContext&, const korb::Empty&) {
  korb::MutexLock lock(&mu_);
  return MakeBalance(cents_);
}

absl::StatusOr<Owner> AccountImpl::GetOwner(korb::CallContext&, const korb::Empty&) {
  korb::MutexLock lock(&mu_);
  Owner owner;
  owner.set_name(owner_);
  return owner;
}

absl::Status AccountImpl::LoadState(absl::string_view state) {
  AccountState parsed;
  if (!parsed.ParseFromArray(state.data(), static_cast<int>(state.size()))) {
    return absl::DataLossError("account state does not parse as bank.AccountState");
  }
  korb::MutexLock lock(&mu_);
  owner_ = parsed.owner();
  cents_ = parsed.cents();
  applied_.assign(parsed.applied().begin(), parsed.applied().end());
  return absl::OkStatus();
}

std::string AccountImpl::SaveState() const {
  AccountState state;
  korb::MutexLock lock(&mu_);
  state.set_owner(owner_);
  state.set_cents(cents_);
  for (const AppliedRequest& applied : applied_) *state.add_applied() = applied;
  return state.SerializeAsString();
}

absl::StatusOr<std::shared_ptr<korb::Servant>> AccountActivator::Incarnate(absl::string_view id) {
  if (!IsAccountId(id)) return korb::ObjectNotExist(id);
  absl::StatusOr<bool> exists = store_->Contains(id);
  if (!exists.ok()) {
    return korb::WithErrorKind(absl::UnavailableError(absl::StrCat(
                                   "cannot look up account: ", exists.status().message())),
                               korb::ErrorKind::kTransient);
  }
  if (!*exists) return korb::ObjectNotExist(id);
  auto account = std::make_shared<AccountImpl>();
  account->set_record_requests(record_requests_);
  return account;
}

absl::StatusOr<korb::ObjectRef> BankImpl::Open(korb::CallContext& context, const Owner& owner) {
  if (owner.name().empty()) return absl::InvalidArgumentError("owner name must not be empty");
  std::string id;
  {
    korb::MutexLock lock(&mu_);
    uint64_t next = 1;
    absl::StatusOr<std::string> counter = store_->Load(kNextAccountKey);
    if (counter.ok()) {
      if (!absl::SimpleAtoi(*counter, &next) || next == 0) {
        return absl::DataLossError(absl::StrCat("bad account counter '", *counter, "'"));
      }
    } else if (!absl::IsNotFound(counter.status())) {
      return counter.status();
    }
    id = absl::StrCat(kAccountIdPrefix, next);
    AccountState state;
    state.set_owner(owner.name());
    // Both rows or neither: whatever a crash interrupts, the counter never
    // hands out an id that already has an account.
    const std::pair<std::string, std::string> rows[] = {
        {std::string(kNextAccountKey), absl::StrCat(next + 1)}, {id, state.SerializeAsString()}};
    if (absl::Status saved = store_->SaveAll(rows); !saved.ok()) return saved;
  }
  return context.adapter()
      ->CreateReference(id, AccountServant::korb_static_interface().name)
      .ToProto();
}

}  // namespace bank
