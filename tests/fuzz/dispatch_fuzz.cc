// Fuzzes the server's request pipeline and the generated dispatch of
// servants (korbtest.Echo and the oneway korbtest.Sink), fed through the
// in-memory transport exactly as a hostile client would shape a call: the
// method path (one of the IDL's, or any bytes), the korb-object key (an
// explicitly activated object, an object a servant activator incarnates on
// demand, none for the default object, or any bytes), korb-priority and
// korb-request-id values, and the payload bytes. Properties:
//   - nothing crashes, and every call is answered exactly once;
//   - with well-formed headers and no request id (a repeated id may be
//     answered from the reply cache):
//       an operation the object's interface lacks is UNIMPLEMENTED,
//         korb-error no-such-method;
//       a payload that does not decode as the operation's request is
//         INVALID_ARGUMENT, korb-error bad-request (a oneway call is
//         answered OK before decoding: it is accepted);
//       a payload that decodes runs the servant once and is answered OK;
//   - a servant never runs for a payload that did not decode.
// Every adapter runs its servants inline, so a call has been answered, and
// its servant has run, when InMemoryCall::Start() returns.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "adapter/object_adapter.h"
#include "adapter/object_server.h"
#include "adapter/servant_manager.h"
#include "adapter/testing/in_memory_transport.h"
#include "common/wire.h"
#include "korbtest/testing.korb.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using korb::testing::InMemoryCall;
using korb::testing::InMemoryReply;
using korb::testing::InMemoryRequest;

// Servant runs (any servant of this process), to see whether one ran.
std::atomic<int> runs{0};

class FuzzEcho : public korbtest::EchoServant {
 public:
  absl::StatusOr<korbtest::EchoReply> Echo(korb::CallContext&,
                                           const korbtest::EchoRequest& request) override {
    ++runs;
    korbtest::EchoReply reply;
    reply.set_text(request.text());
    return reply;
  }
  absl::StatusOr<korb::Empty> Ping(korb::CallContext&, const korb::Empty&) override {
    ++runs;
    return korb::Empty();
  }
};

class FuzzSink : public korbtest::SinkServant {
 public:
  absl::StatusOr<korb::Empty> Post(korb::CallContext&, const korbtest::EchoRequest&) override {
    ++runs;
    return korb::Empty();
  }
  absl::StatusOr<korbtest::EchoReply> Posted(korb::CallContext&, const korb::Empty&) override {
    ++runs;
    return korbtest::EchoReply();
  }
};

// Incarnates an Echo for any id (the fuzzer's ids are bounded by the
// adapter's active-object cap).
class FuzzActivator : public korb::ServantActivator {
 public:
  absl::StatusOr<std::shared_ptr<korb::Servant>> Incarnate(absl::string_view) override {
    return std::make_shared<FuzzEcho>();
  }
  void Etherealize(absl::string_view, std::shared_ptr<korb::Servant>,
                   korb::EtherealizeReason) override {}
};

struct Method {
  const char* path;
  absl::string_view interface;
  bool oneway;
  // Whether `payload` decodes as the operation's request.
  bool (*decodes)(const std::string& payload);
};

template <typename Message>
bool Decodes(const std::string& payload) {
  Message message;
  return message.ParseFromString(payload);
}

const Method kMethods[] = {
    {"/korbtest.Echo/Echo", "korbtest.Echo", false, &Decodes<korbtest::EchoRequest>},
    {"/korbtest.Echo/Ping", "korbtest.Echo", false, &Decodes<korb::Empty>},
    {"/korbtest.Sink/Post", "korbtest.Sink", true, &Decodes<korbtest::EchoRequest>},
    {"/korbtest.Sink/Posted", "korbtest.Sink", false, &Decodes<korb::Empty>},
    {"/korbtest.EchoFactory/Create", "korbtest.EchoFactory", false,
     &Decodes<korbtest::CreateRequest>},
};

struct World {
  std::unique_ptr<korb::ObjectServer> server;
  std::vector<std::string> keys;  // of objects that exist (or are incarnated on demand)
};

World& TheWorld() {
  static World* world = [] {
    auto* w = new World;
    w->server = korb::testing::StartInMemoryServer();
    // Persistent adapters: keys carry no instance tag.
    korb::AdapterOptions options;
    options.threading = korb::ThreadingOptions::Inline();
    options.lifespan = korb::Lifespan::kPersistent;
    korb::ObjectAdapter* fixed = *w->server->CreateAdapter("fixed", options);
    (void)fixed->Activate("echo", std::make_shared<FuzzEcho>());
    (void)fixed->Activate("sink", std::make_shared<FuzzSink>());
    (void)fixed->SetDefaultObject("echo");
    (void)fixed->Resume();
    options.max_active_objects = 4;
    korb::ObjectAdapter* lazy = *w->server->CreateAdapter("lazy", options);
    (void)lazy->SetServantActivator(std::make_shared<FuzzActivator>());
    (void)lazy->Resume();
    w->keys = {korb::EncodeObjectKey("fixed", "echo"), korb::EncodeObjectKey("fixed", "sink"),
               korb::EncodeObjectKey("lazy", "a"), korb::EncodeObjectKey("lazy", "b")};
    return w;
  }();
  return *world;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& world = TheWorld();
  FuzzedDataProvider input(data, size);

  InMemoryRequest request;
  if (input.ConsumeBool()) {
    request.method_path = input.ConsumeRandomLengthString(64);
  } else {
    request.method_path = input.PickValueInArray(kMethods).path;
  }
  switch (input.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      request.object_key =
          world.keys[input.ConsumeIntegralInRange<size_t>(0, world.keys.size() - 1)];
      break;
    case 1:
      break;  // no korb-object: the default object of the method's interface
    case 2:
      // An id the activator incarnates; more than the cap, so objects are evicted.
      request.object_key =
          korb::EncodeObjectKey("lazy", absl::StrCat("o", input.ConsumeIntegral<uint8_t>() % 16));
      break;
    default:
      request.object_key = input.ConsumeRandomLengthString(64);
      break;
  }
  bool headers_ok = true;
  if (input.ConsumeBool()) {
    std::string priority = input.ConsumeRandomLengthString(16);
    int32_t parsed;
    if (!absl::SimpleAtoi(priority, &parsed)) headers_ok = false;
    request.metadata.emplace_back(std::string(korb::kPriorityHeader), std::move(priority));
  }
  const bool has_request_id = input.ConsumeBool();
  if (has_request_id) {
    request.metadata.emplace_back(std::string(korb::kRequestIdHeader),
                                  input.ConsumeRandomLengthString(80));
  }
  request.payload = input.ConsumeRemainingBytesAsString();

  const int runs_before = runs.load();
  std::shared_ptr<InMemoryCall> call = InMemoryCall::Start(*world.server, request);
  // Inline policies: answered before Start() returned; the bound only turns
  // a lost answer into a finding instead of a hang.
  FUZZ_CHECK(call->Wait(absl::Seconds(10)));
  FUZZ_CHECK(call->answers() == 1);
  const InMemoryReply& reply = call->reply();
  const int ran = runs.load() - runs_before;
  FUZZ_CHECK(ran == 0 || ran == 1);

  // The operation the path names (also when the fuzzer made it up), and the
  // interface of the object the call reaches, when the fuzzer knows them.
  const Method* method = nullptr;
  for (const Method& known : kMethods) {
    if (request.method_path == known.path) method = &known;
  }
  absl::string_view interface;
  if (request.object_key.has_value()) {
    std::string adapter, id;
    if (korb::DecodeObjectKey(*request.object_key, &adapter, &id)) {
      // "name@" names a persistent adapter (no instance tag) too.
      if (size_t at = adapter.find('@'); at != std::string::npos) {
        adapter = at + 1 == adapter.size() ? adapter.substr(0, at) : "";
      }
      if (adapter == "lazy" || (adapter == "fixed" && id == "echo")) interface = "korbtest.Echo";
      if (adapter == "fixed" && id == "sink") interface = "korbtest.Sink";
    }
  } else if (korb::ServiceOfMethodPath(request.method_path) == "korbtest.Echo") {
    interface = "korbtest.Echo";  // the default object
  }
  const bool decodes = method != nullptr && method->decodes(request.payload);
  if (ran == 1) {
    // A servant only ever runs on a payload that decodes, as an operation of
    // its interface.
    FUZZ_CHECK(decodes);
    FUZZ_CHECK(method->interface == interface);
  }
  if (interface.empty() || !headers_ok || has_request_id) return 0;
  if (method == nullptr || method->interface != interface) {
    FUZZ_CHECK(reply.status.code() == absl::StatusCode::kUnimplemented);
    FUZZ_CHECK(reply.korb_error() == "no-such-method");
    FUZZ_CHECK(ran == 0);
    return 0;
  }
  if (method->oneway) {
    FUZZ_CHECK(reply.status.ok());  // accepted; the outcome is nobody's
    return 0;
  }
  if (!decodes) {
    FUZZ_CHECK(reply.status.code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(reply.korb_error() == "bad-request");
    FUZZ_CHECK(ran == 0);
    return 0;
  }
  FUZZ_CHECK(reply.status.ok());
  FUZZ_CHECK(ran == 1);
  return 0;
}
