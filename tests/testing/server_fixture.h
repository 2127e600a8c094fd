// An in-process object server with one adapter, a client, and helpers to
// call objects on it: the common setup of the adapter-level tests.
//
// Thread-compatible (tests drive it from their main thread).
#ifndef KORB_TESTS_TESTING_SERVER_FIXTURE_H_
#define KORB_TESTS_TESTING_SERVER_FIXTURE_H_

#include <memory>
#include <string>

#include "adapter/object_server.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "tests/testing/fixture_helpers.h"
#include "korbtest/testing.korb.h"
#include "tests/testing/status_matchers.h"

namespace korb::testing {

class ServerFixture : public ::testing::Test {
 protected:
  // Starts the server and adapter "t" with `options`.
  void StartServer(AdapterOptions options) {
    absl::StatusOr<std::unique_ptr<ObjectServer>> server = ObjectServer::Start({});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    absl::StatusOr<ObjectAdapter*> adapter = server_->CreateAdapter("t", std::move(options));
    ASSERT_TRUE(adapter.ok()) << adapter.status();
    adapter_ = *adapter;
    // Objects are activated while it runs: nothing to wait for.
    ASSERT_TRUE(adapter_->Resume().ok());
  }

  // A stub for `servant`, activated as `id` (with `options`).
  korbtest::EchoStub ActivateEcho(const std::string& id, std::shared_ptr<Servant> servant,
                                  const ActivateOptions& options = {}) {
    absl::StatusOr<Ref> ref = adapter_->Activate(id, std::move(servant), options);
    EXPECT_TRUE(ref.ok()) << ref.status();
    return korbtest::EchoStub(client_, ref.ok() ? *ref : Ref());
  }

  static korbtest::EchoRequest Text(const std::string& text) { return EchoText(text); }

  // Waits until the adapter's policies hold `n` queued calls; false after 30 s.
  bool AwaitQueued(size_t n) { return AwaitQueuedCalls(*adapter_, n); }

  // Over gRPC, as the fixture's name says (a collocated client would skip
  // it: tests/client/collocated_test.cc).
  Client client_{ClientOptions{.collocated_calls = false}};
  std::unique_ptr<ObjectServer> server_;
  ObjectAdapter* adapter_ = nullptr;
};

}  // namespace korb::testing

#endif  // KORB_TESTS_TESTING_SERVER_FIXTURE_H_
