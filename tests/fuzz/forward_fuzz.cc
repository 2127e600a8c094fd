// Fuzzes how Korb's client runtime handles a `korb-forward` reply, as a
// hostile or broken server would send it: a raw gRPC server on 127.0.0.1
// answers every call NOT_FOUND with korb-error: forward and the fuzz input as
// korb-forward, and a Korb stub (korbtest.Echo) calls it. The stub follows
// what parses, to a further location or back to the fuzz server (the token
// PORT in the input stands for the fuzz server's port, so forward loops and
// hop limits are reachable). Properties:
//   - nothing crashes and every call returns (libFuzzer's -timeout catches a
//     hang); the call never succeeds;
//   - a value that is not a reference, or a reference to an object of
//     another interface, fails the call NOT_FOUND with korb-error: forward.
// Inputs naming a host other than loopback are skipped, so the fuzzer never
// sends traffic off the machine; so are bytes gRPC does not allow in a
// metadata value.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/server_callback.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "common/ref.h"
#include "common/wire.h"
#include "korbtest/testing.korb.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// The korb-forward value the server sends next (one call at a time).
absl::Mutex forward_mu;
std::string forward_value ABSL_GUARDED_BY(forward_mu);

class ForwardingReactor : public grpc::ServerGenericBidiReactor {
 public:
  explicit ForwardingReactor(grpc::GenericCallbackServerContext* context) : context_(context) {
    StartRead(&request_);
  }

 private:
  void OnReadDone(bool) override {
    std::string value;
    {
      absl::MutexLock lock(&forward_mu);
      value = forward_value;
    }
    context_->AddTrailingMetadata(std::string(korb::kErrorHeader), "forward");
    context_->AddTrailingMetadata(std::string(korb::kForwardHeader), value);
    Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "moved"));
  }
  void OnDone() override { delete this; }

  grpc::GenericCallbackServerContext* const context_;
  grpc::ByteBuffer request_;
};

class ForwardingService : public grpc::CallbackGenericService {
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    return new ForwardingReactor(context);
  }
};

struct Harness {
  Harness() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterCallbackGenericService(&service);
    server = builder.BuildAndStart();
    FUZZ_CHECK(server != nullptr && port > 0);
    NewClient();
  }
  // A fresh Client now and then: each forwarded-to endpoint keeps a channel
  // in the Client for its lifetime.
  void NewClient() {
    korb::ClientOptions options;
    options.default_timeout = absl::Seconds(2);
    options.retry.max_attempts = 1;
    options.reconnect.initial_backoff = absl::Milliseconds(100);
    options.reconnect.min_connect_timeout = absl::Milliseconds(500);
    client = std::make_unique<korb::Client>(options);
  }

  ForwardingService service;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<korb::Client> client;
  int calls = 0;
};

bool IsLegalMetadataValue(absl::string_view value) {
  for (char c : value) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "localhost";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness* harness = new Harness();  // lives for the process
  absl::string_view raw(reinterpret_cast<const char*>(data), size);
  if (size > 4096 || !IsLegalMetadataValue(raw)) return 0;
  std::string value = absl::StrReplaceAll(raw, {{"PORT", absl::StrCat(harness->port)}});
  absl::StatusOr<korb::Ref> forwarded = korb::Ref::Parse(value);
  if (forwarded.ok()) {
    for (const korb::HostPort& endpoint : forwarded->endpoints()) {
      if (!IsLoopback(endpoint.host)) return 0;
    }
  }
  {
    absl::MutexLock lock(&forward_mu);
    forward_value = value;
  }
  if (++harness->calls % 256 == 0) harness->NewClient();

  korb::Ref start("korbtest.Echo", {{"127.0.0.1", static_cast<uint16_t>(harness->port)}},
                  "fuzz", "origin");
  korbtest::EchoStub stub(*harness->client, start);
  korbtest::EchoRequest request;
  request.set_text("hello");
  absl::StatusOr<korbtest::EchoReply> reply = stub.Echo(request);
  FUZZ_CHECK(!reply.ok());
  bool other_interface = forwarded.ok() && !forwarded->type().empty() &&
                         forwarded->type() != "korbtest.Echo";
  if (!forwarded.ok() || other_interface) {
    FUZZ_CHECK(reply.status().code() == absl::StatusCode::kNotFound);
    FUZZ_CHECK(korb::ErrorKindOf(reply.status()) == korb::ErrorKind::kForward);
  }
  return 0;
}
