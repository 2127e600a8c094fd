// The bank example's servants: a Bank factory that activates one Account
// object per Open() call, and the Account itself.
//
// Thread-safety: both servants are thread-safe (the shared pool may run calls
// to one account concurrently; AccountImpl serializes them with a mutex).
#ifndef KORB_EXAMPLES_BANK_BANK_SERVANTS_H_
#define KORB_EXAMPLES_BANK_BANK_SERVANTS_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "bank/bank.korb.h"

namespace bank {

class AccountImpl : public AccountServant {
 public:
  explicit AccountImpl(std::string owner) : owner_(std::move(owner)) {}

  absl::StatusOr<Balance> Deposit(korb::CallContext& context, const Amount& amount) override;
  absl::StatusOr<Balance> Withdraw(korb::CallContext& context, const Amount& amount) override;
  absl::StatusOr<Balance> GetBalance(korb::CallContext& context, const korb::Empty&) override;
  absl::StatusOr<Owner> GetOwner(korb::CallContext& context, const korb::Empty&) override;

 private:
  const std::string owner_;
  absl::Mutex mu_;
  int64_t cents_ ABSL_GUARDED_BY(mu_) = 0;
};

class BankImpl : public BankServant {
 public:
  // Activates a new AccountImpl in the adapter that hosts the bank.
  absl::StatusOr<korb::ObjectRef> Open(korb::CallContext& context, const Owner& owner) override;
};

}  // namespace bank

#endif  // KORB_EXAMPLES_BANK_BANK_SERVANTS_H_
