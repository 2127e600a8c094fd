// An object server on the in-memory transport with one adapter, a client,
// and helpers to call objects on it: the setup of the adapter-level tests
// that need no network (so they run under ThreadSanitizer). The same shape
// as ServerFixture (server_fixture.h), which runs over gRPC.
//
// Thread-compatible (tests drive it from their main thread).
#ifndef KORB_TESTS_TESTING_IN_MEMORY_FIXTURE_H_
#define KORB_TESTS_TESTING_IN_MEMORY_FIXTURE_H_

#include <memory>
#include <string>

#include "adapter/object_server.h"
#include "adapter/testing/in_memory_transport.h"
#include "gtest/gtest.h"
#include "tests/testing/fixture_helpers.h"
#include "korbtest/testing.korb.h"
#include "tests/testing/in_memory_client.h"
#include "tests/testing/status_matchers.h"

namespace korb::testing {

class InMemoryFixture : public ::testing::Test {
 protected:
  // Starts the server and adapter "t" with `options`.
  void StartServer(AdapterOptions options) {
    server_ = StartInMemoryServer();
    client_.set_server(server_.get());
    absl::StatusOr<ObjectAdapter*> adapter = server_->CreateAdapter("t", std::move(options));
    ASSERT_TRUE(adapter.ok()) << adapter.status();
    adapter_ = *adapter;
    // Objects are activated while it runs: nothing to wait for.
    ASSERT_TRUE(adapter_->Resume().ok());
  }

  // A stub for `servant`, activated as `id` (with `options`).
  InMemoryEchoStub ActivateEcho(const std::string& id, std::shared_ptr<Servant> servant,
                                const ActivateOptions& options = {}) {
    absl::StatusOr<Ref> ref = adapter_->Activate(id, std::move(servant), options);
    EXPECT_TRUE(ref.ok()) << ref.status();
    return InMemoryEchoStub(client_, ref.ok() ? *ref : Ref());
  }

  static korbtest::EchoRequest Text(const std::string& text) { return EchoText(text); }

  // Waits until the adapter's policies hold `n` queued calls; false after 30 s.
  bool AwaitQueued(size_t n) { return AwaitQueuedCalls(*adapter_, n); }

  // Destroyed last: joins its waiters once the server has answered all.
  InMemoryClient client_;
  std::unique_ptr<ObjectServer> server_;
  ObjectAdapter* adapter_ = nullptr;
};

}  // namespace korb::testing

#endif  // KORB_TESTS_TESTING_IN_MEMORY_FIXTURE_H_
