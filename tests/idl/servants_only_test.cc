// modes.proto generated with --korb_opt=generate=servants: only the skeleton
// is emitted, and it dispatches as usual.
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korbidl/modes.korb.h"
#include "tests/idl/byte_buffers.h"
#include "tests/idl/read_file.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ModesImpl : public korbidl::modes::ModesServant {
 public:
  absl::StatusOr<korbidl::modes::Ping> EchoAgain(korb::CallContext&,
                                                 const korbidl::modes::Ping& ping) override {
    korbidl::modes::Ping reply;
    reply.set_text(ping.text() + ping.text());
    return reply;
  }
};

TEST(ServantsOnly, HeaderHasNoStub) {
  // The client side (and its runtime headers) is left out entirely.
  std::string header = korb::testing::ReadFile(KORB_GENERATED_HEADER);
  ASSERT_FALSE(header.empty()) << KORB_GENERATED_HEADER;
  EXPECT_THAT(header, HasSubstr("class ModesServant : public ::korb::Servant"));
  EXPECT_THAT(header, Not(HasSubstr("Stub")));
  EXPECT_THAT(header, Not(HasSubstr("client/")));
}

TEST(ServantsOnly, ServantDispatches) {
  // Index 1 is EchoAgain; index 0 keeps its UNIMPLEMENTED default.
  ModesImpl servant;
  const korb::InterfaceInfo& info = servant.korb_interface();
  ASSERT_EQ(info.methods.size(), 2u);
  EXPECT_TRUE(info.methods[0].semantics.readonly);
  korbidl::modes::Ping ping;
  ping.set_text("ab");
  grpc::ByteBuffer reply;
  korb::CallContext context(nullptr, nullptr, "m", &info.methods[1]);
  ASSERT_TRUE(servant.korb_dispatch(1, context, korb::testing::ToByteBuffer(ping), &reply).ok());
  korbidl::modes::Ping decoded;
  ASSERT_TRUE(korb::testing::FromByteBuffer(reply, &decoded));
  EXPECT_EQ(decoded.text(), "abab");

  korb::CallContext echo_context(nullptr, nullptr, "m", &info.methods[0]);
  EXPECT_EQ(servant.korb_dispatch(0, echo_context, korb::testing::ToByteBuffer(ping), &reply)
                .error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

}  // namespace
