// The echo workload's servers, shared by echo_bench (one process) and the
// peer benchmark's server processes (bench/peers/): a Korb servant and raw
// gRPC's generated sync and callback services for echo.Echo
// (examples/echo/echo.proto), each returning the request's payload.
//
// Thread-safety: thread-safe (no state).
//
// Usage:
//   adapter->Activate("echo", std::make_shared<korb::bench::KorbEcho>());
//   korb::bench::GrpcCallbackEcho service;  builder.RegisterService(&service);
#ifndef KORB_BENCH_ECHO_SERVANTS_H_
#define KORB_BENCH_ECHO_SERVANTS_H_

#include <grpcpp/grpcpp.h>

#include "echo/echo.grpc.pb.h"
#include "echo/echo.korb.h"

namespace korb::bench {

class KorbEcho : public echo::EchoServant {
 public:
  absl::StatusOr<echo::EchoReply> Echo(korb::CallContext&,
                                       const echo::EchoRequest& request) override {
    echo::EchoReply reply;
    reply.set_payload(request.payload());
    return reply;
  }
};

class GrpcSyncEcho final : public echo::Echo::Service {
  grpc::Status Echo(grpc::ServerContext*, const echo::EchoRequest* request,
                    echo::EchoReply* reply) override {
    reply->set_payload(request->payload());
    return grpc::Status::OK;
  }
};

class GrpcCallbackEcho final : public echo::Echo::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const echo::EchoRequest* request,
                                 echo::EchoReply* reply) override {
    reply->set_payload(request->payload());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace korb::bench

#endif  // KORB_BENCH_ECHO_SERVANTS_H_
