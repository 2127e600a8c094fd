// bank_client: opens two accounts at a bank, moves money between them, and
// prints the balances; or shows the owner and balance of given accounts.
//
//   bank_client <bank reference>
//   bank_client --naming <naming service reference> [--name NAME]
//   bank_client --show <account reference>...
//
// The bank reference is what bank_server prints, e.g.
// korb://127.0.0.1:40123/bank/main?type=bank.Bank, or an indirect one that
// names it in a naming service, e.g. korbname://127.0.0.1:2809/bank?type=bank.Bank.
// --naming builds the latter from the naming service's reference (what
// korb-naming prints) and the name the bank registered under (--name,
// default "bank"): the client finds the bank by name. Account references are
// what the first form prints after "opened " (they stay valid across
// restarts of a bank_server on the same address and database).
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "bank/bank.korb.h"
#include "client/client.h"
#include "common/status_macros.h"

namespace {

bank::Amount Cents(int64_t cents) {
  bank::Amount amount;
  amount.set_cents(cents);
  return amount;
}

std::string Dollars(int64_t cents) {
  std::ostringstream out;
  out << "$" << cents / 100 << "." << std::setw(2) << std::setfill('0') << cents % 100;
  return out.str();
}

absl::StatusOr<bank::AccountStub> OpenAccount(korb::Client& client, const bank::BankStub& bank,
                                              const std::string& name) {
  bank::Owner owner;
  owner.set_name(name);
  ASSIGN_OR_RETURN(korb::ObjectRef ref, bank.Open(owner));
  return korb::MakeStub<bank::AccountStub>(client, ref);
}

// The indirect reference to `name` in the naming service `naming_ref`.
absl::StatusOr<std::string> ByName(const std::string& naming_ref, const std::string& name) {
  ASSIGN_OR_RETURN(korb::Ref naming, korb::Ref::Parse(naming_ref));
  korb::Ref bank = korb::Ref::Indirect("bank.Bank", naming.endpoints(), name);
  RETURN_IF_ERROR(bank.Validate());
  return bank.ToString();
}

absl::Status Run(const std::string& bank_ref) {
  korb::Client client;
  ASSIGN_OR_RETURN(bank::BankStub bank, korb::MakeStub<bank::BankStub>(client, bank_ref));
  ASSIGN_OR_RETURN(bank::AccountStub alice, OpenAccount(client, bank, "alice"));
  ASSIGN_OR_RETURN(bank::AccountStub bob, OpenAccount(client, bank, "bob"));
  std::cout << "opened " << alice.korb_ref() << "\n"
            << "opened " << bob.korb_ref() << "\n";

  RETURN_IF_ERROR(alice.Deposit(Cents(10000)).status());
  // Two deposits in flight at once from this thread, then wait for both.
  korb::Future<bank::Balance> a = alice.DepositAsync(Cents(2550));
  korb::Future<bank::Balance> b = bob.DepositAsync(Cents(500));
  korb::WaitAll(a, b);
  RETURN_IF_ERROR(a.Get().status());
  RETURN_IF_ERROR(b.Get().status());

  // Transfer $30.00 from alice to bob.
  RETURN_IF_ERROR(alice.Withdraw(Cents(3000)).status());
  RETURN_IF_ERROR(bob.Deposit(Cents(3000)).status());

  // Overdrawing is refused by the servant with FAILED_PRECONDITION.
  absl::StatusOr<bank::Balance> overdraft = bob.Withdraw(Cents(1000000));
  std::cout << "bob withdraws $10000.00: " << overdraft.status() << "\n";
  if (overdraft.status().code() != absl::StatusCode::kFailedPrecondition) {
    return absl::InternalError("overdraft was not refused");
  }

  ASSIGN_OR_RETURN(bank::Balance alice_balance, alice.GetBalance(korb::Empty()));
  ASSIGN_OR_RETURN(bank::Balance bob_balance, bob.GetBalance(korb::Empty()));
  std::cout << "alice: " << Dollars(alice_balance.cents()) << "\n"
            << "bob: " << Dollars(bob_balance.cents()) << "\n";
  return absl::OkStatus();
}

absl::Status Show(const std::vector<std::string>& account_refs) {
  korb::Client client;
  for (const std::string& ref : account_refs) {
    ASSIGN_OR_RETURN(bank::AccountStub account, korb::MakeStub<bank::AccountStub>(client, ref));
    ASSIGN_OR_RETURN(bank::Owner owner, account.GetOwner(korb::Empty()));
    ASSIGN_OR_RETURN(bank::Balance balance, account.GetBalance(korb::Empty()));
    std::cout << owner.name() << ": " << Dollars(balance.cents()) << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::Status status;
  if (argc >= 3 && std::string(argv[1]) == "--show") {
    status = Show(std::vector<std::string>(argv + 2, argv + argc));
  } else if ((argc == 3 || (argc == 5 && std::string(argv[3]) == "--name")) &&
             std::string(argv[1]) == "--naming") {
    absl::StatusOr<std::string> bank_ref = ByName(argv[2], argc == 5 ? argv[4] : "bank");
    if (bank_ref.ok()) std::cout << "bank: " << *bank_ref << "\n";
    status = bank_ref.ok() ? Run(*bank_ref) : bank_ref.status();
  } else if (argc == 2 && argv[1][0] != '-') {
    status = Run(argv[1]);
  } else {
    std::cerr << "usage: bank_client <bank reference>\n"
                 "       bank_client --naming <naming service reference> [--name NAME]\n"
                 "       bank_client --show <account reference>..."
              << std::endl;
    return EXIT_FAILURE;
  }
  if (!status.ok()) {
    std::cerr << "bank_client: " << status << std::endl;
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
