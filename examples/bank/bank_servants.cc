#include "bank/bank_servants.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "adapter/object_adapter.h"

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

absl::StatusOr<Balance> AccountImpl::Deposit(korb::CallContext&, const Amount& amount) {
  if (absl::Status s = CheckPositive(amount); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  cents_ += amount.cents();
  return MakeBalance(cents_);
}

absl::StatusOr<Balance> AccountImpl::Withdraw(korb::CallContext&, const Amount& amount) {
  if (absl::Status s = CheckPositive(amount); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  if (amount.cents() > cents_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "insufficient funds: balance is ", cents_, " cents, withdrawal is ",
        amount.cents(), " cents"));
  }
  cents_ -= amount.cents();
  return MakeBalance(cents_);
}

absl::StatusOr<Balance> AccountImpl::GetBalance(korb::CallContext&, const korb::Empty&) {
  absl::MutexLock lock(&mu_);
  return MakeBalance(cents_);
}

absl::StatusOr<Owner> AccountImpl::GetOwner(korb::CallContext&, const korb::Empty&) {
  Owner owner;
  owner.set_name(owner_);
  return owner;
}

absl::StatusOr<korb::ObjectRef> BankImpl::Open(korb::CallContext& context, const Owner& owner) {
  if (owner.name().empty()) return absl::InvalidArgumentError("owner name must not be empty");
  absl::StatusOr<korb::Ref> ref =
      context.adapter()->Activate(std::make_shared<AccountImpl>(owner.name()));
  if (!ref.ok()) return ref.status();
  return ref->ToProto();
}

}  // namespace bank
