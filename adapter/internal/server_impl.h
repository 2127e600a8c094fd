// internal::ServerImpl: the object server behind korb::ObjectServer. It owns
// the adapters and the transports that feed them: the gRPC server (unless
// created for the in-memory transport only) with its two call paths
// (server_call.h), and the first two stages of the request pipeline
// (pipeline.cc; docs/architecture.md):
//
//   Accept  a transport hands over a call (refused while shutting down)
//   Route   find the adapter and object id in korb-object, or the default
//           object of the method's interface
//
// Thread-safety: thread-safe.
#ifndef KORB_ADAPTER_INTERNAL_SERVER_IMPL_H_
#define KORB_ADAPTER_INTERNAL_SERVER_IMPL_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapter/internal/adapter_impl.h"
#include "adapter/internal/call.h"
#include "adapter/object_server.h"
#include "common/sync.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace korb::internal {

class Router;
class InterfaceService;

class ServerImpl final : public ObjectServer {
 public:
  // A server with the gRPC transport listening as `options` say.
  static absl::StatusOr<std::unique_ptr<ServerImpl>> Start(ObjectServerOptions options);
  // A server without gRPC, for the in-memory transport
  // (adapter/testing/in_memory_transport.h); its references name
  // `endpoints`, which nothing listens on.
  static std::unique_ptr<ServerImpl> StartWithoutNetwork(
      std::vector<HostPort> endpoints, absl::Duration startup_window = absl::ZeroDuration(),
      size_t max_request_bytes_in_flight = ObjectServerOptions().max_request_bytes_in_flight);
  ~ServerImpl() override;

  // ObjectServer:
  absl::StatusOr<ObjectAdapter*> CreateAdapter(std::string name, AdapterOptions options) override
      ABSL_LOCKS_EXCLUDED(mu_);
  ObjectAdapter* FindAdapter(absl::string_view name) const override ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<std::string> AdapterNames() const override ABSL_LOCKS_EXCLUDED(mu_);
  const std::vector<HostPort>& endpoints() const override { return endpoints_; }
  // ObjectServerOptions::max_receive_message_bytes (-1: none), which the
  // collocated transport applies as gRPC does.
  int max_receive_message_bytes() const { return max_receive_message_bytes_; }
  void Shutdown(absl::Duration grace) override ABSL_LOCKS_EXCLUDED(mu_);
  void Wait() const override;

  // The pipeline's entry: Accept and Route `call`, whose Request the
  // transport has filled. Whatever happens, the call is answered through
  // its Responder exactly once (perhaps before this returns).
  void Accept(Call& call) ABSL_LOCKS_EXCLUDED(mu_);
  // Request payload bytes of calls accepted and not yet answered.
  size_t request_bytes_in_flight() const { return request_bytes_.load(std::memory_order_relaxed); }

  // Registers the default object for `interface` (ObjectAdapter::SetDefaultObject).
  void SetDefaultObject(absl::string_view interface, AdapterImpl* adapter, std::string id)
      ABSL_LOCKS_EXCLUDED(mu_);
  // A transport's call was created / has ended; Shutdown() waits for them.
  void CallOpened() ABSL_LOCKS_EXCLUDED(calls_mu_);
  void CallClosed() ABSL_LOCKS_EXCLUDED(calls_mu_);

 private:
  ServerImpl();

  struct DefaultObject {
    AdapterImpl* adapter;
    std::string id;
  };

  // Counts the call's payload in the in-flight bytes; false (the call
  // answered RESOURCE_EXHAUSTED) if that would pass the limit.
  bool ChargeRequestBytes(Call& call);

  // NOT_FOUND (object-not-exist) for a call to adapter `name`, which does not
  // exist here.
  absl::Status NoSuchAdapter(absl::string_view name) const;

  std::unique_ptr<Router> router_;
  std::vector<std::unique_ptr<InterfaceService>> interface_services_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::vector<HostPort> endpoints_;
  int max_receive_message_bytes_ = -1;
  // Until then an unknown adapter is "not created yet" (transient).
  absl::Time startup_ends_ = absl::InfinitePast();
  // Request payload bytes of calls between Accept() and their reply.
  size_t max_request_bytes_ = ObjectServerOptions().max_request_bytes_in_flight;
  std::atomic<size_t> request_bytes_{0};

  mutable Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<AdapterImpl>> adapters_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, DefaultObject> default_objects_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  // Transport calls not reported done yet; Shutdown() waits for them.
  Mutex calls_mu_;
  int open_calls_ ABSL_GUARDED_BY(calls_mu_) = 0;
  Notification shut_down_;
};

}  // namespace korb::internal

#endif  // KORB_ADAPTER_INTERNAL_SERVER_IMPL_H_
