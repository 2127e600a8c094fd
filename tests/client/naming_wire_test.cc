// The client's wire view of korb.naming.NamingContext
// (client/internal/naming_wire.proto) against the real messages of
// idl/korb/naming.proto: what the client sends parses as the service's
// request, and what the service answers parses as the client's reply, field
// for field. Guards the copy against drifting from the contract.
#include "client/internal/naming_wire.pb.h"
#include "gtest/gtest.h"
#include "korb/naming.pb.h"

namespace korb {
namespace {

template <typename To, typename From>
To Reparse(const From& from) {
  To to;
  EXPECT_TRUE(to.ParseFromString(from.SerializeAsString()));
  return to;
}

TEST(NamingWire, RequestsParseAsTheServicesMessages) {
  // NameRequest and WaitRequest: every field the client sets arrives.
  naming::wire::NameRequest name;
  name.set_name("bank/accounts/main");
  EXPECT_EQ(Reparse<naming::NameRequest>(name).name(), "bank/accounts/main");

  naming::wire::WaitRequest wait;
  wait.set_prefix("bank");
  wait.set_after_revision(1234567890123);
  wait.set_timeout_ms(30000);
  const naming::WaitRequest real = Reparse<naming::WaitRequest>(wait);
  EXPECT_EQ(real.prefix(), "bank");
  EXPECT_EQ(real.after_revision(), 1234567890123);
  EXPECT_EQ(real.timeout_ms(), 30000);
}

TEST(NamingWire, RepliesParseAsTheClientsMessages) {
  // ResolveReply and WaitReply with every field set, members and bindings
  // included (the client skips them).
  naming::ResolveReply resolve;
  resolve.mutable_ref()->set_adapter("bank");
  resolve.mutable_ref()->set_id("main");
  resolve.mutable_ref()->set_type("bank.Bank");
  korb::Endpoint* endpoint = resolve.mutable_ref()->add_endpoints();
  endpoint->set_host("127.0.0.1");
  endpoint->set_port(7000);
  naming::Member* member = resolve.add_members();
  *member->mutable_ref() = resolve.ref();
  member->set_member_id("m1");
  member->set_lease(99);
  resolve.set_revision(42);
  const naming::wire::ResolveReply client_resolve = Reparse<naming::wire::ResolveReply>(resolve);
  EXPECT_EQ(client_resolve.ref().SerializeAsString(), resolve.ref().SerializeAsString());
  EXPECT_EQ(client_resolve.revision(), 42);

  naming::WaitReply wait;
  naming::Change* change = wait.add_changes();
  change->set_name("bank");
  *change->mutable_binding()->add_members() = *member;
  change->mutable_binding()->set_name("bank");
  change->set_revision(43);
  wait.add_changes()->set_name("bank/x");
  wait.set_revision(44);
  wait.set_history_lost(true);
  const naming::wire::WaitReply client_wait = Reparse<naming::wire::WaitReply>(wait);
  ASSERT_EQ(client_wait.changes_size(), 2);
  EXPECT_EQ(client_wait.changes(0).name(), "bank");
  EXPECT_EQ(client_wait.changes(0).revision(), 43);
  EXPECT_EQ(client_wait.changes(1).name(), "bank/x");
  EXPECT_EQ(client_wait.revision(), 44);
  EXPECT_TRUE(client_wait.history_lost());
}

}  // namespace
}  // namespace korb
