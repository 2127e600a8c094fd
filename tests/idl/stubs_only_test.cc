// modes.proto generated with --korb_opt=generate=stubs: only the stub class is
// emitted, and it still carries the interface's method table.
#include <string>
#include <type_traits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korbidl/modes.korb.h"
#include "tests/idl/read_file.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(StubsOnly, HeaderHasNoServant) {
  // The servant side (and its runtime headers) is left out entirely.
  std::string header = korb::testing::ReadFile(KORB_GENERATED_HEADER);
  ASSERT_FALSE(header.empty()) << KORB_GENERATED_HEADER;
  EXPECT_THAT(header, HasSubstr("class ModesStub : public ::korb::StubBase"));
  EXPECT_THAT(header, Not(HasSubstr("Servant")));
  EXPECT_THAT(header, Not(HasSubstr("servants/servant.h")));
  static_assert(std::is_base_of_v<korb::StubBase, korbidl::modes::ModesStub>);
}

TEST(StubsOnly, StubCarriesTheMethodTable) {
  // Options and paths are in the table although no servant was generated.
  const korb::InterfaceInfo& info = korbidl::modes::ModesStub::korb_static_interface();
  EXPECT_EQ(info.name, "korbidl.modes.Modes");
  EXPECT_EQ(korbidl::modes::ModesStub::kInterfaceName, "korbidl.modes.Modes");
  ASSERT_EQ(info.methods.size(), 2u);
  EXPECT_EQ(info.methods[0].name, "Echo");
  EXPECT_EQ(info.methods[0].path, "/korbidl.modes.Modes/Echo");
  EXPECT_TRUE(info.methods[0].semantics.readonly);
  EXPECT_EQ(info.methods[0].semantics.priority, 4);
  EXPECT_EQ(info.methods[1].path, "/korbidl.modes.Modes/EchoAgain");
  EXPECT_FALSE(info.methods[1].semantics.readonly);
}

}  // namespace
