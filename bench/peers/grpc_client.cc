// peer_grpc_client: the peer benchmark's client process for the systems on
// gRPC, driven by bench/peers/peer_bench through peer_client.h's protocol:
//   korb    Korb's generated echo.EchoStub on one korb::Client (one channel,
//           hence one connection, shared by every thread), a stub per thread
//   unary   gRPC's generated echo.Echo stub on one channel shared by every
//           thread, one ClientContext per call; given a Korb reference, it
//           calls that Korb object as any plain gRPC client can, with the
//           `korb-object` header (docs/wire.md), which tells Korb's client
//           runtime's cost apart from its server's
//   stream  one long-lived peerbench.StreamEcho bidi stream per thread on one
//           shared channel; a call writes a message and reads the reply
//
//   peer_grpc_client --mode korb|unary|stream --target REF|HOST:PORT|unix:/path
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "bench/peers/peer_client.h"
#include "client/client.h"
#include "echo/echo.grpc.pb.h"
#include "echo/echo.korb.h"
#include "stream_echo.grpc.pb.h"

namespace {

using ::korb::bench::ClientLoop;

ClientLoop KorbLoop(korb::Client& client, const korb::Ref& ref, size_t payload) {
  auto stub = std::make_shared<echo::EchoStub>(client, ref);
  auto request = std::make_shared<echo::EchoRequest>();
  request->set_payload(std::string(payload, 'k'));
  return {.call = [stub, request, payload] {
    absl::StatusOr<echo::EchoReply> reply = stub->Echo(*request);
    if (!reply.ok()) {
      std::cerr << "peer_grpc_client: " << reply.status() << std::endl;
      return false;
    }
    return reply->payload().size() == payload;
  }};
}

// `korb_object`: the korb-object header's value, or empty for a plain gRPC
// server.
ClientLoop UnaryLoop(const std::shared_ptr<grpc::Channel>& channel, const std::string& korb_object,
                     size_t payload) {
  std::shared_ptr<echo::Echo::Stub> stub = echo::Echo::NewStub(channel);
  auto request = std::make_shared<echo::EchoRequest>();
  request->set_payload(std::string(payload, 'k'));
  auto reply = std::make_shared<echo::EchoReply>();
  return {.call = [stub, korb_object, request, reply, payload] {
    grpc::ClientContext context;
    if (!korb_object.empty()) context.AddMetadata("korb-object", korb_object);
    grpc::Status status = stub->Echo(&context, *request, reply.get());
    if (!status.ok()) {
      std::cerr << "peer_grpc_client: " << status.error_message() << std::endl;
      return false;
    }
    return reply->payload().size() == payload;
  }};
}

// One client thread's stream, half-closed and finished when the thread's loop
// is destroyed at the end of a run.
class PingPongStream {
 public:
  explicit PingPongStream(const std::shared_ptr<grpc::Channel>& channel)
      : stub_(peerbench::StreamEcho::NewStub(channel)), stream_(stub_->Echo(&context_)) {}
  ~PingPongStream() {
    stream_->WritesDone();
    grpc::Status status = stream_->Finish();
    if (!status.ok()) {
      std::cerr << "peer_grpc_client: stream: " << status.error_message() << std::endl;
    }
  }
  bool Call(const peerbench::Chunk& request, peerbench::Chunk* reply) {
    return stream_->Write(request) && stream_->Read(reply);
  }

 private:
  std::unique_ptr<peerbench::StreamEcho::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<peerbench::Chunk, peerbench::Chunk>> stream_;
};

ClientLoop StreamLoop(const std::shared_ptr<grpc::Channel>& channel, size_t payload) {
  auto stream = std::make_shared<PingPongStream>(channel);
  auto request = std::make_shared<peerbench::Chunk>();
  request->set_payload(std::string(payload, 'k'));
  auto reply = std::make_shared<peerbench::Chunk>();
  return {.call = [stream, request, reply, payload] {
    if (!stream->Call(*request, reply.get())) {
      std::cerr << "peer_grpc_client: the stream broke" << std::endl;
      return false;
    }
    return reply->payload().size() == payload;
  }};
}

[[noreturn]] void Usage() {
  std::cerr << "usage: peer_grpc_client --mode korb|unary|stream --target REF|HOST:PORT|unix:/path"
            << std::endl;
  std::exit(EXIT_FAILURE);
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode, target;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--mode" && i + 1 < argc) {
      mode = argv[++i];
    } else if (arg == "--target" && i + 1 < argc) {
      target = argv[++i];
    } else {
      Usage();
    }
  }
  if (target.empty()) Usage();
  if (mode == "korb") {
    absl::StatusOr<korb::Ref> ref = korb::Ref::Parse(target);
    if (!ref.ok()) {
      std::cerr << "peer_grpc_client: " << ref.status() << std::endl;
      return EXIT_FAILURE;
    }
    korb::Client client;
    return korb::bench::peers::ServeDriver(
        [&](int, size_t payload) { return KorbLoop(client, *ref, payload); });
  }
  std::string korb_object;
  if (absl::StartsWith(target, "korb://")) {
    absl::StatusOr<korb::Ref> ref = korb::Ref::Parse(target);
    if (!ref.ok() || mode != "unary") {
      std::cerr << "peer_grpc_client: a Korb reference needs --mode korb or unary" << std::endl;
      return EXIT_FAILURE;
    }
    // The string form's path is "<adapter>/<id>", already percent-encoded as
    // the header wants it.
    const std::string uri = ref->ToString();
    const size_t path = uri.find('/', std::string("korb://").size()) + 1;
    korb_object = uri.substr(path, uri.find('?', path) - path);
    target = ref->endpoints().front().ToString();
  }
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  if (mode == "unary") {
    return korb::bench::peers::ServeDriver(
        [&](int, size_t payload) { return UnaryLoop(channel, korb_object, payload); });
  }
  if (mode == "stream") {
    return korb::bench::peers::ServeDriver(
        [&](int, size_t payload) { return StreamLoop(channel, payload); });
  }
  Usage();
}
