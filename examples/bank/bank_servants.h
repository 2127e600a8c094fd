// The bank example's servants: a Bank factory that opens accounts, the
// Account itself, and the activator that brings accounts into memory on
// their first call.
//
// Accounts live in a korb::StateStore (one row per account, keyed by its
// object id, holding an AccountState) and are in memory only while they are
// used: Bank::Open() writes a new account's row and returns a reference
// without activating anything; AccountActivator incarnates an account on its
// first call and the adapter loads its row into it (AccountImpl is a
// korb::PersistentState), saves it after every change (write-through) or
// when it is evicted (write-back), and evicts idle accounts beyond the
// adapter's cap. docs/persistence.md walks through it.
//
// Retries across crashes: a modifying call (Deposit, Withdraw) that carries
// a korb-request-id is remembered in the account's own row together with the
// balance it produced, so a retry that reaches a restarted server (whose
// in-memory reply cache is gone) is answered with the recorded balance
// instead of being applied a second time.
//
// Thread-safety: all three classes are thread-safe (a shared pool may run
// calls to one account concurrently; AccountImpl serializes them with a
// mutex, and SaveState() takes the same mutex for a consistent snapshot).
#ifndef KORB_EXAMPLES_BANK_BANK_SERVANTS_H_
#define KORB_EXAMPLES_BANK_BANK_SERVANTS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapter/servant_manager.h"
#include "bank/bank.korb.h"
#include "common/sync.h"
#include "servants/persistent_state.h"
#include "servants/state_store.h"

namespace bank {

// Account object ids are "acct-<n>", n = 1, 2, ...; the counter lives in the
// store under kNextAccountKey, which is not an account id.
inline constexpr absl::string_view kAccountIdPrefix = "acct-";
inline constexpr absl::string_view kNextAccountKey = "bank.next_account";
bool IsAccountId(absl::string_view id);

class AccountImpl : public AccountServant, public korb::PersistentState {
 public:
  // Request ids remembered per account. A retry is recognized if fewer than
  // this many other modifying calls on the same account came in between.
  static constexpr size_t kRememberedRequests = 32;

  // An account with no state; LoadState() fills it in.
  AccountImpl() = default;

  absl::StatusOr<Balance> Deposit(korb::CallContext& context, const Amount& amount) override;
  absl::StatusOr<Balance> Withdraw(korb::CallContext& context, const Amount& amount) override;
  absl::StatusOr<Balance> GetBalance(korb::CallContext& context, const korb::Empty&) override;
  absl::StatusOr<Owner> GetOwner(korb::CallContext& context, const korb::Empty&) override;

  // An AccountState in wire format.
  absl::Status LoadState(absl::string_view state) override;
  std::string SaveState() const override;

  // When false, request ids are neither recorded nor looked up: a retry
  // after a crash may apply twice. Only for tests that show the hazard.
  void set_record_requests(bool record) { record_requests_ = record; }

 private:
  // Applies `delta` (negative: a withdrawal) as the call `context` asks,
  // unless the call's request id was applied already.
  absl::StatusOr<Balance> Apply(korb::CallContext& context, int64_t delta);

  bool record_requests_ = true;
  mutable korb::Mutex mu_;
  std::string owner_ ABSL_GUARDED_BY(mu_);
  int64_t cents_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<AppliedRequest> applied_ ABSL_GUARDED_BY(mu_);  // oldest first
};

// Incarnates accounts that have a row in `store`; ObjectNotExist for others.
class AccountActivator : public korb::ServantActivator {
 public:
  // `store` is the one the adapter persists accounts in.
  explicit AccountActivator(std::shared_ptr<korb::StateStore> store, bool record_requests = true)
      : store_(std::move(store)), record_requests_(record_requests) {}

  absl::StatusOr<std::shared_ptr<korb::Servant>> Incarnate(absl::string_view id) override;

 private:
  const std::shared_ptr<korb::StateStore> store_;
  const bool record_requests_;
};

class BankImpl : public BankServant {
 public:
  // Opens accounts in `store` (the adapter's store), referenced in the
  // adapter that hosts the bank. One BankImpl per store: the id counter is
  // read and advanced under this object's mutex, so two processes must not
  // open accounts in one database file at once.
  explicit BankImpl(std::shared_ptr<korb::StateStore> store) : store_(std::move(store)) {}

  // Writes the new account's row and the advanced counter in one atomic
  // SaveAll, then returns a reference to the (not yet active) account.
  absl::StatusOr<korb::ObjectRef> Open(korb::CallContext& context, const Owner& owner) override;

 private:
  const std::shared_ptr<korb::StateStore> store_;
  korb::Mutex mu_;  // serializes id allocation
};

}  // namespace bank

#endif  // KORB_EXAMPLES_BANK_BANK_SERVANTS_H_
