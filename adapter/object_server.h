// korb::ObjectServer: a process's object server. It owns the gRPC server and
// its listening endpoints and hosts any number of named object adapters (a
// "superserver" in the seeds' words). Every call, of every interface, arrives
// through one gRPC generic callback service and is routed by its method path
// and `korb-object` metadata to an adapter, which hands it to the skeleton
// under its threading policy. Calls without `korb-object` go to the default
// object registered for their interface (ObjectAdapter::SetDefaultObject).
//
// Errors on the wire (docs/wire.md):
//   unknown adapter/object, no default object -> NOT_FOUND, korb-error: object-not-exist
//   unknown adapter within the start-up window -> UNAVAILABLE, korb-error: transient
//   malformed korb-object or method path      -> INVALID_ARGUMENT / UNIMPLEMENTED
//   method not in the object's interface      -> UNIMPLEMENTED, korb-error: no-such-method
//   server or adapter shutting down           -> UNAVAILABLE, korb-error: transient
//
// Lifetime: Start() returns a running server; Shutdown() (or the destructor)
// stops it. Adapters live as long as the server.
//
// The class is the user's interface; the runtime's side (transports, the
// Accept and Route stages of the request pipeline) is internal::ServerImpl.
//
// Thread-safety: thread-safe.
//
// Usage:
//   korb::ObjectServerOptions options;
//   options.listen = {"0.0.0.0:7000"};
//   options.tls.certificate_chain_file = "server.pem";  // optional: TLS
//   options.tls.private_key_file = "server.key";
//   ASSIGN_OR_RETURN(std::unique_ptr<korb::ObjectServer> server,
//                    korb::ObjectServer::Start(options));
//   ASSIGN_OR_RETURN(korb::ObjectAdapter* adapter, server->CreateAdapter("bank"));
//   ... activate objects, install servant managers ...
//   RETURN_IF_ERROR(adapter->Resume());  // adapters hold calls until then
//   server->Wait();   // until another thread calls Shutdown()
#ifndef KORB_ADAPTER_OBJECT_SERVER_H_
#define KORB_ADAPTER_OBJECT_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapter/object_adapter.h"
#include "common/ref.h"

namespace korb {

// TLS for every listening address of a server (docs/security.md). Paths of
// PEM files; the files are re-read every `refresh_interval`, so certificates
// rotate without a restart (replace them atomically: write new files and
// rename them over the old ones). A server with TLS issues korbs://
// references and accepts no plaintext connection.
struct ServerTlsOptions {
  // The server's certificate chain (leaf first) and its private key. Both
  // set: TLS; both empty: plaintext. Its subject alternative names must cover
  // the host clients connect to (the advertised host of references).
  std::string certificate_chain_file;
  std::string private_key_file;
  // mTLS: the CAs (PEM bundle) that sign client certificates. Set: clients
  // are asked for a certificate, which must chain to one of these; its
  // subject and SANs are the caller's identity (CallContext::peer_identity(),
  // access control). Empty: client certificates are not asked for.
  std::string client_ca_file;
  // With client_ca_file: a client without a certificate fails the handshake.
  // False lets it in without an identity (for callers that authenticate with
  // tokens instead; AccessPolicy decides); a certificate it does present
  // must still verify.
  bool require_client_certificate = true;
  // How often the PEM files are read again (at least 1 s).
  absl::Duration refresh_interval = absl::Minutes(1);

  bool enabled() const { return !certificate_chain_file.empty() || !private_key_file.empty(); }
};

struct ObjectServerOptions {
  // Addresses to listen on, "host:port"; port 0 picks a free port (see
  // endpoints() for the one chosen). At least one.
  std::vector<std::string> listen = {"127.0.0.1:0"};
  // Host written into references instead of the listening host. Empty: the
  // listening host, or this machine's host name for a wildcard address
  // (0.0.0.0, [::]).
  std::string advertised_host;
  // Largest request accepted, in bytes (gRPC's default is 4 MiB).
  int max_receive_message_bytes = 4 * 1024 * 1024;
  // Largest reply sent, in bytes; -1 for no limit.
  int max_send_message_bytes = -1;
  // Request payloads the server holds at once across all adapters (queued,
  // held, or executing), in bytes. A call that would exceed it is answered
  // RESOURCE_EXHAUSTED (korb-error: transient, so clients back off and
  // retry), unless it is the only one: one call of up to
  // max_receive_message_bytes always gets in.
  size_t max_request_bytes_in_flight = 256 << 20;
  // Concurrent calls (HTTP/2 streams) one client connection may have open;
  // more wait in the client (gRPC queues them).
  int max_concurrent_streams_per_connection = 1000;
  // Interfaces whose calls take gRPC's registered-method path instead of the
  // generic one: the same routing and behaviour, about 5 % less CPU per call
  // (docs/performance.md). Optional; calls of unlisted interfaces work too.
  // E.g. {&bank::AccountServant::korb_static_interface()}.
  std::vector<const InterfaceInfo*> interfaces;
  // Start-up window: for this long after Start(), a call for an adapter not
  // created yet is answered UNAVAILABLE (korb-error: transient, so clients
  // retry) instead of NOT_FOUND object-not-exist: a restarting server must
  // not deny objects it is about to serve. Afterwards an unknown adapter is
  // object-not-exist. Adapters themselves hold calls until Resume().
  absl::Duration startup_window = absl::Seconds(10);
  // HTTP/2 keepalive pings from clients: the shortest interval between pings
  // the server accepts (more frequent ones get the connection closed with
  // GOAWAY "too_many_pings"), and whether pings are allowed while no call is
  // in flight. Match ClientOptions::keepalive of the clients (docs/client.md).
  absl::Duration min_client_ping_interval = absl::Minutes(5);
  bool permit_pings_without_calls = false;
  // gRPC server reflection (grpc.reflection.v1alpha.ServerReflection): tools
  // such as korbctl and grpcurl fetch the descriptors of every interface
  // linked into this program by name. Its service list names the
  // `interfaces` above (calls of other interfaces, on the generic path, are
  // not known before they arrive): list an interface there to have it
  // listed. Turn off where the schema must not be disclosed.
  bool reflection = true;
  // TLS and mTLS on every listening address (default: plaintext).
  ServerTlsOptions tls;
};

class ObjectServer {
 public:
  // Starts listening. UNAVAILABLE if an address cannot be bound,
  // INVALID_ARGUMENT for malformed options (among them TLS files that are
  // missing or not PEM).
  static absl::StatusOr<std::unique_ptr<ObjectServer>> Start(ObjectServerOptions options);
  virtual ~ObjectServer() = default;  // Shutdown() with the default grace period

  ObjectServer(const ObjectServer&) = delete;
  ObjectServer& operator=(const ObjectServer&) = delete;

  // Creates adapter `name` (not empty, unique in this server) with its own
  // threading policy. The pointer is valid until the server is destroyed.
  virtual absl::StatusOr<ObjectAdapter*> CreateAdapter(std::string name,
                                                       AdapterOptions options = {}) = 0;
  // The adapter called `name`, or null.
  virtual ObjectAdapter* FindAdapter(absl::string_view name) const = 0;
  // The names of this server's adapters, sorted (for tools: admin object,
  // metrics exporter).
  virtual std::vector<std::string> AdapterNames() const = 0;

  // The endpoints written into references (advertised host, bound port).
  virtual const std::vector<HostPort>& endpoints() const = 0;

  // Stops the server: new calls are refused, calls in flight get up to
  // `grace` to finish before they are cancelled, adapters shut down, servants
  // are released. Idempotent; concurrent callers all return once it is done.
  virtual void Shutdown(absl::Duration grace = absl::Seconds(5)) = 0;
  // Blocks until Shutdown() has completed.
  virtual void Wait() const = 0;

 protected:
  ObjectServer() = default;
};

}  // namespace korb

#endif  // KORB_ADAPTER_OBJECT_SERVER_H_
