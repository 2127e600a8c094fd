// Running the client tests both ways: over gRPC and collocated (a stub
// calling an ObjectServer of its own process without gRPC). Test suites
// against in-process servers are parameterized by a bool, `collocated`:
//
//   class StubTest : public ::testing::TestWithParam<bool> { ...
//     Client client_{testing::Transport(GetParam())};
//   INSTANTIATE_TEST_SUITE_P(Transports, StubTest, ::testing::Bool(), testing::TransportName);
//
// WhereEcho answers with the peer and thread its call ran on, which tells
// the two apart ("collocated" vs "ipv4:...").
//
// Thread-safety: thread-safe.
#ifndef KORB_TESTS_CLIENT_TRANSPORTS_H_
#define KORB_TESTS_CLIENT_TRANSPORTS_H_

#include <sstream>
#include <string>
#include <thread>

#include "client/client.h"
#include "gtest/gtest.h"
#include "korbtest/testing.korb.h"

namespace korb::testing {

// `options` with collocated calls on or off.
inline ClientOptions Transport(bool collocated, ClientOptions options = {}) {
  options.collocated_calls = collocated;
  return options;
}

inline std::string TransportName(const ::testing::TestParamInfo<bool>& info) {
  return info.param ? "Collocated" : "Grpc";
}

inline std::string ThisThread() {
  std::ostringstream out;
  out << std::this_thread::get_id();
  return out.str();
}

// Echoes the text; object_id carries CallContext::peer(), metadata the id
// of the thread the operation ran on.
class WhereEcho : public korbtest::EchoServant {
 public:
  absl::StatusOr<korbtest::EchoReply> Echo(CallContext& context,
                                           const korbtest::EchoRequest& request) override {
    korbtest::EchoReply reply;
    reply.set_text(request.text());
    reply.set_object_id(context.peer());
    reply.set_metadata(ThisThread());
    return reply;
  }
  absl::StatusOr<Empty> Ping(CallContext&, const Empty&) override { return Empty(); }
};

}  // namespace korb::testing

#endif  // KORB_TESTS_CLIENT_TRANSPORTS_H_
