// peer_grpc_server: the peer benchmark's raw-gRPC server process, one of
//   sync      gRPC's generated synchronous service for echo.Echo
//   callback  gRPC's generated callback service for echo.Echo (the machinery
//             Korb's object server stands on)
//   stream    peerbench.StreamEcho: a callback bidi reactor per stream that
//             reads a message, writes it back, and reads the next
// Listens on a TCP address or a Unix socket ("unix:/path"), prints the target
// clients dial, and serves until SIGTERM.
//
//   peer_grpc_server --mode sync|callback|stream [--listen 127.0.0.1:0 | unix:/path]
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "bench/echo_servants.h"
#include "bench/peers/peer_server.h"
#include "stream_echo.grpc.pb.h"

namespace {

// One per stream: read, write back, read again, until the client half-closes.
class PingPong final : public grpc::ServerBidiReactor<peerbench::Chunk, peerbench::Chunk> {
 public:
  PingPong() { StartRead(&request_); }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client's WritesDone, or the stream broke
      Finish(grpc::Status::OK);
      return;
    }
    reply_.set_payload(request_.payload());
    StartWrite(&reply_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
      return;
    }
    StartRead(&request_);
  }
  void OnDone() override { delete this; }

 private:
  peerbench::Chunk request_, reply_;
};

class StreamEcho final : public peerbench::StreamEcho::CallbackService {
  grpc::ServerBidiReactor<peerbench::Chunk, peerbench::Chunk>* Echo(
      grpc::CallbackServerContext*) override {
    return new PingPong();
  }
};

[[noreturn]] void Usage() {
  std::cerr << "usage: peer_grpc_server --mode sync|callback|stream "
               "[--listen 127.0.0.1:0 | unix:/path]"
            << std::endl;
  std::exit(EXIT_FAILURE);
}

}  // namespace

int main(int argc, char** argv) {
  sigset_t signals = korb::bench::peers::BlockTerminationSignals();
  std::string mode, listen = "127.0.0.1:0";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--mode" && i + 1 < argc) {
      mode = argv[++i];
    } else if (arg == "--listen" && i + 1 < argc) {
      listen = argv[++i];
    } else {
      Usage();
    }
  }
  std::unique_ptr<grpc::Service> service;
  if (mode == "sync") {
    service = std::make_unique<korb::bench::GrpcSyncEcho>();
  } else if (mode == "callback") {
    service = std::make_unique<korb::bench::GrpcCallbackEcho>();
  } else if (mode == "stream") {
    service = std::make_unique<StreamEcho>();
  } else {
    Usage();
  }

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "peer_grpc_server: cannot listen on " << listen << std::endl;
    return EXIT_FAILURE;
  }
  // A Unix socket is dialled by its own name; a TCP address by the port
  // chosen for ":0".
  const bool unix_socket = absl::StartsWith(listen, "unix:");
  korb::bench::peers::PrintEndpoint(
      unix_socket ? listen
                  : absl::StrFormat("%s:%d", listen.substr(0, listen.rfind(':')), port));
  korb::bench::peers::WaitForTermination(signals);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return EXIT_SUCCESS;
}
