// The naming service's input rules (servants/naming/names.h): names,
// prefixes, member ids, references, TTLs, and merging a replica group.
#include "servants/naming/names.h"

#include <string>

#include "common/ref.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/naming/naming_test_util.h"
#include "tests/testing/status_matchers.h"

namespace korb::naming {
namespace {

using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::testing::HasSubstr;

using ::korb::naming::testing::RefTo;

TEST(Names, AcceptsHierarchicalNames) {
  EXPECT_THAT(ValidateName("bank"), IsOk());
  EXPECT_THAT(ValidateName("bank/accounts/main"), IsOk());
  EXPECT_THAT(ValidateName("a-b.c_d~e/F9"), IsOk());
  EXPECT_THAT(ValidateName(std::string(64, 'x')), IsOk());
  // 4 components of 63 bytes and 3 slashes: 255 bytes.
  std::string long_name = std::string(63, 'a') + "/" + std::string(63, 'b') + "/" +
                          std::string(63, 'c') + "/" + std::string(64, 'd');
  EXPECT_EQ(long_name.size(), 256u);
  EXPECT_THAT(ValidateName(long_name), IsOk());
}

TEST(Names, RejectsMalformedNamesWithTheReason) {
  EXPECT_THAT(ValidateName(""), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(ValidateName("/bank"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("component 1 is empty")));
  EXPECT_THAT(ValidateName("bank/"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateName("bank//x"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateName("bank/../x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"..\"")));
  EXPECT_THAT(ValidateName("."), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateName("bank account"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("%20")));
  EXPECT_THAT(ValidateName(std::string("a\0b", 3)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateName("caf\xC3\xA9"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateName(std::string(65, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most 64")));
  EXPECT_THAT(ValidateName(std::string(200, 'a') + "/" + std::string(60, 'b')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most 256")));
  EXPECT_EQ(ErrorKindOf(ValidateName("")), ErrorKind::kBadRequest);
}

TEST(Names, ErrorMessagesShowABoundedEscapedName) {
  absl::Status status = ValidateName(std::string(10000, '\n'));
  EXPECT_LT(status.message().size(), 400u);
  EXPECT_THAT(std::string(status.message()), ::testing::Not(HasSubstr("\n")));
}

TEST(Names, PrefixIsEmptyOrAName) {
  EXPECT_THAT(ValidatePrefix(""), IsOk());
  EXPECT_THAT(ValidatePrefix("bank"), IsOk());
  EXPECT_THAT(ValidatePrefix("bank/"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("prefix")));
}

TEST(Names, PrefixesMatchWholeComponents) {
  EXPECT_TRUE(NameHasPrefix("bank", ""));
  EXPECT_TRUE(NameHasPrefix("bank", "bank"));
  EXPECT_TRUE(NameHasPrefix("bank/accounts/main", "bank"));
  EXPECT_TRUE(NameHasPrefix("bank/accounts/main", "bank/accounts"));
  EXPECT_FALSE(NameHasPrefix("banking", "bank"));
  EXPECT_FALSE(NameHasPrefix("bank/accountsx", "bank/accounts"));
  EXPECT_FALSE(NameHasPrefix("ban", "bank"));
}

TEST(Names, MemberIdsArePrintableAscii) {
  EXPECT_THAT(ValidateMemberId("127.0.0.1:7000/bank"), IsOk());
  EXPECT_THAT(ValidateMemberId(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateMemberId("a b"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateMemberId(std::string(129, 'm')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most 128")));
}

TEST(Names, ReferencesMustBeValidAndBounded) {
  EXPECT_THAT(ValidateRef(RefTo("korb://127.0.0.1:7000/bank/main?type=bank.Bank")), IsOk());
  EXPECT_THAT(ValidateRef(korb::ObjectRef()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reference")));
  korb::ObjectRef no_port = RefTo("korb://127.0.0.1:7000/bank/main");
  no_port.mutable_endpoints(0)->set_port(0);
  EXPECT_THAT(ValidateRef(no_port), StatusIs(absl::StatusCode::kInvalidArgument));
  korb::ObjectRef many = RefTo("korb://127.0.0.1:7000/bank/main");
  for (int i = 0; i < 40; ++i) *many.add_endpoints() = many.endpoints(0);
  EXPECT_THAT(ValidateRef(many),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("endpoints")));
  korb::ObjectRef huge = RefTo("korb://127.0.0.1:7000/bank/main");
  huge.set_id(std::string(5000, 'i'));
  EXPECT_THAT(ValidateRef(huge), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bytes")));
}

TEST(Names, IndirectReferencesAreNotBound) {
  // A name bound to another name would make resolution a chain (or a cycle).
  EXPECT_THAT(ValidateRef(RefTo("korbname://127.0.0.1:7000/bank/accounts?type=bank.Account")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("by name")));
}

TEST(Names, TtlIsDefaultOrWithinAnHour) {
  EXPECT_THAT(ValidateTtl(0), IsOk());
  EXPECT_THAT(ValidateTtl(3600), IsOk());
  EXPECT_THAT(ValidateTtl(-1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateTtl(3601), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Names, MergeMembersUnitesEndpointsInMemberOrder) {
  Binding binding;
  binding.set_name("counter");
  binding.set_revision(7);
  for (const char* uri : {"korb://h1:1,h2:2/a/c?type=p.C", "korb://h2:2,h3:3/a/c?type=p.C"}) {
    Member* member = binding.add_members();
    *member->mutable_ref() = RefTo(uri);
    member->set_member_id(uri);
  }
  absl::StatusOr<ResolveReply> reply = MergeMembers(binding);
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(Ref::FromProto(reply->ref())->ToString(), "korb://h1:1,h2:2,h3:3/a/c?type=p.C");
  EXPECT_EQ(reply->members_size(), 2);
  EXPECT_EQ(reply->revision(), 7);
}

TEST(Names, MergeOfNoMembersIsNameNotBound) {
  Binding binding;
  binding.set_name("gone");
  absl::StatusOr<ResolveReply> reply = MergeMembers(binding);
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kNotFound, HasSubstr("gone")));
  EXPECT_EQ(ErrorKindOf(reply.status()), ErrorKind::kNameNotBound);
}

TEST(Names, JoinMustFitTheGroup) {
  Binding binding;
  binding.set_name("counter");
  Member* member = binding.add_members();
  *member->mutable_ref() = RefTo("korb://h1:1/a/c?type=p.C");
  member->set_member_id("m1");
  EXPECT_THAT(CheckJoinFits(binding, RefTo("korb://h2:2/a/c?type=p.C")), IsOk());
  EXPECT_THAT(CheckJoinFits(binding, RefTo("korb://h2:2/a/other?type=p.C")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("same adapter, id and type")));
  EXPECT_THAT(CheckJoinFits(binding, RefTo("korb://h2:2/a/c?type=p.D")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  member->set_member_id("");
  EXPECT_THAT(CheckJoinFits(binding, RefTo("korb://h2:2/a/c?type=p.C")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("permanently")));
}

}  // namespace
}  // namespace korb::naming
