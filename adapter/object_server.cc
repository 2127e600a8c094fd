#include "adapter/object_server.h"

#include "adapter/internal/server_impl.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include <grpcpp/grpcpp.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/impl/codegen/server_callback_handlers.h>
#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/server_builder.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "adapter/internal/collocated.h"
#include "adapter/internal/server_call.h"
#include "common/status_macros.h"
#include "common/tls_files.h"
#include "common/wire.h"

namespace korb {

absl::StatusOr<std::unique_ptr<ObjectServer>> ObjectServer::Start(ObjectServerOptions options) {
  absl::StatusOr<std::unique_ptr<internal::ServerImpl>> server =
      internal::ServerImpl::Start(std::move(options));
  if (!server.ok()) return server.status();
  return std::unique_ptr<ObjectServer>(*std::move(server));
}

namespace internal {

// The one gRPC service of an object server: every call, whatever its method
// path, becomes a ServerCall routed by ObjectServer::Route().
class Router final : public grpc::CallbackGenericService {
 public:
  explicit Router(ServerImpl* server) : server_(server) {}
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    return new StreamServerCall(server_, context);
  }

 private:
  ServerImpl* const server_;
};

// The registered-method path for one interface: each operation is a gRPC
// unary callback method on raw byte buffers, routed like any other call.
class InterfaceService final : public grpc::Service {
 public:
  InterfaceService(ServerImpl* server, const InterfaceInfo& interface) {
    for (size_t i = 0; i < interface.methods.size(); ++i) {
      // `path` is a NUL-terminated literal from the generated method table.
      absl::string_view path = interface.methods[i].path;
      AddMethod(new grpc::internal::RpcServiceMethod(
          path.data(), grpc::internal::RpcMethod::NORMAL_RPC, nullptr));
      MarkMethodCallback(
          static_cast<int>(i),
          new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
              [server, path](grpc::CallbackServerContext* context,
                             const grpc::ByteBuffer* request,
                             grpc::ByteBuffer* reply) -> grpc::ServerUnaryReactor* {
                // Accept() may finish the call before it is returned; gRPC
                // keeps such a Finish() until the reactor is bound.
                auto* call = new UnaryServerCall(server, context, path, request, reply);
                call->Start();
                return call;
              }));
    }
  }
};

namespace {

// How long Shutdown() lets clients acknowledge the server's GOAWAY once no
// call is left: responsive clients take a round trip; idle ones are cut.
constexpr absl::Duration kGoawayLinger = absl::Milliseconds(250);

bool IsWildcardHost(absl::string_view host) {
  return host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]";
}

std::string LocalHostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

// Server reflection on one builder, or none: linking libgrpc++_reflection
// adds its plugin to every builder of the process (a static initializer), so
// the option removes that one and adds its own only when asked.
class ReflectionOption : public grpc::ServerBuilderOption {
 public:
  explicit ReflectionOption(bool enabled) : enabled_(enabled) {}
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    grpc::reflection::ProtoServerReflectionPlugin reflection;
    const std::string name = reflection.name();
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [&](const auto& plugin) { return plugin->name() == name; }),
                   plugins->end());
    if (enabled_) {
      plugins->push_back(std::make_unique<grpc::reflection::ProtoServerReflectionPlugin>());
    }
  }

 private:
  const bool enabled_;
};

// The credentials every listening port gets: plaintext, or TLS (with client
// certificates for mTLS) from PEM files that gRPC's file watcher re-reads.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const ServerTlsOptions& tls) {
  if (!tls.enabled()) {
    if (!tls.client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "ObjectServerOptions.tls.client_ca_file is set but the server has no certificate "
          "(certificate_chain_file, private_key_file): mTLS needs TLS");
    }
    return grpc::InsecureServerCredentials();
  }
  RETURN_IF_ERROR(CheckPemFile("ObjectServerOptions.tls.certificate_chain_file",
                               tls.certificate_chain_file));
  RETURN_IF_ERROR(CheckPemFile("ObjectServerOptions.tls.private_key_file", tls.private_key_file));
  const bool mutual = !tls.client_ca_file.empty();
  if (mutual) {
    RETURN_IF_ERROR(CheckPemFile("ObjectServerOptions.tls.client_ca_file", tls.client_ca_file));
  }
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls.private_key_file, tls.certificate_chain_file, mutual ? tls.client_ca_file : "",
      RefreshSeconds(tls.refresh_interval));
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (mutual) {
    options.watch_root_certs();
    options.set_cert_request_type(tls.require_client_certificate
                                      ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                      : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

}  // namespace

ServerImpl::ServerImpl() : router_(std::make_unique<Router>(this)) {}

std::unique_ptr<ServerImpl> ServerImpl::StartWithoutNetwork(std::vector<HostPort> endpoints,
                                                            absl::Duration startup_window,
                                                            size_t max_request_bytes_in_flight) {
  std::unique_ptr<ServerImpl> server(new ServerImpl());
  server->endpoints_ = std::move(endpoints);
  server->startup_ends_ = absl::Now() + startup_window;
  server->max_request_bytes_ = max_request_bytes_in_flight;
  return server;
}

absl::StatusOr<std::unique_ptr<ServerImpl>> ServerImpl::Start(ObjectServerOptions options) {
  if (options.listen.empty()) {
    return absl::InvalidArgumentError("ObjectServerOptions.listen names no address");
  }
  if (options.startup_window < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ObjectServerOptions.startup_window must not be negative");
  }
  if (options.max_concurrent_streams_per_connection <= 0) {
    return absl::InvalidArgumentError(
        "ObjectServerOptions.max_concurrent_streams_per_connection must be positive");
  }
  if (options.min_client_ping_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "ObjectServerOptions.min_client_ping_interval must not be negative");
  }
  std::vector<std::string> listen_hosts;
  for (const std::string& address : options.listen) {
    // gRPC validates the address when binding; only the host is needed here.
    size_t colon = address.rfind(':');
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("listen address '", address, "' lacks ':port'"));
    }
    std::string host = address.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    listen_hosts.push_back(std::move(host));
  }

  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      ServerCredentials(options.tls);
  if (!credentials.ok()) return credentials.status();

  std::unique_ptr<ServerImpl> server(new ServerImpl());
  server->max_receive_message_bytes_ = options.max_receive_message_bytes;
  // Counted from before the port opens: no call can arrive earlier.
  server->startup_ends_ = absl::Now() + options.startup_window;
  server->max_request_bytes_ = options.max_request_bytes_in_flight;
  grpc::ServerBuilder builder;
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options.max_concurrent_streams_per_connection);
  // Without this, gRPC sets SO_REUSEPORT and a second server on the same
  // port would silently share it; a fixed endpoint must belong to one server.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      static_cast<int>(std::min<int64_t>(
          absl::ToInt64Milliseconds(options.min_client_ping_interval), INT32_MAX)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
                             options.permit_pings_without_calls ? 1 : 0);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  builder.SetMaxSendMessageSize(options.max_send_message_bytes);
  builder.RegisterCallbackGenericService(server->router_.get());
  builder.SetOption(std::make_unique<ReflectionOption>(options.reflection));
  absl::flat_hash_set<absl::string_view> registered;
  for (const InterfaceInfo* interface : options.interfaces) {
    if (interface == nullptr || !registered.insert(interface->name).second) continue;
    server->interface_services_.push_back(
        std::make_unique<InterfaceService>(server.get(), *interface));
    builder.RegisterService(server->interface_services_.back().get());
  }
  std::vector<int> ports(options.listen.size(), 0);
  for (size_t i = 0; i < options.listen.size(); ++i) {
    builder.AddListeningPort(options.listen[i], *credentials, &ports[i]);
  }
  server->grpc_server_ = builder.BuildAndStart();
  if (server->grpc_server_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ",
                                               absl::StrJoin(options.listen, ", ")));
  }
  for (size_t i = 0; i < options.listen.size(); ++i) {
    if (ports[i] == 0) {
      server->grpc_server_->Shutdown();
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", options.listen[i]));
    }
    std::string host = options.advertised_host;
    if (host.empty()) {
      host = IsWildcardHost(listen_hosts[i]) ? LocalHostName() : listen_hosts[i];
    }
    server->endpoints_.push_back(
        HostPort{host, static_cast<uint16_t>(ports[i]), options.tls.enabled()});
  }
  // Stubs of this process call it without gRPC (collocated.h).
  std::vector<HostPort> local_names;
  for (size_t i = 0; i < options.listen.size(); ++i) {
    for (HostPort& name : LocalServers::NamesOf(listen_hosts[i], server->endpoints_[i])) {
      local_names.push_back(std::move(name));
    }
  }
  LocalServers::Register(server.get(), local_names);
  return server;
}

ServerImpl::~ServerImpl() { Shutdown(absl::Seconds(5)); }

absl::StatusOr<ObjectAdapter*> ServerImpl::CreateAdapter(std::string name,
                                                           AdapterOptions options) {
  if (name.empty()) return absl::InvalidArgumentError("adapter name must not be empty");
  if (absl::StrContains(name, '@')) {
    // '@' separates a transient adapter's name from its instance tag.
    return absl::InvalidArgumentError(
        absl::StrCat("adapter name '", absl::CHexEscape(name), "' must not contain '@'"));
  }
  absl::StatusOr<std::unique_ptr<ThreadingPolicy>> policy =
      MakeThreadingPolicy(options.threading);
  if (!policy.ok()) return policy.status();
  std::shared_ptr<const AccessControl> access;
  if (!options.access.empty()) {
    absl::StatusOr<std::unique_ptr<const AccessControl>> compiled =
        AccessControl::Create(options.access);
    if (!compiled.ok()) return compiled.status();
    access = *std::move(compiled);
  }
  korb::MutexLock lock(&mu_);
  if (shutting_down_) return absl::FailedPreconditionError("object server is shut down");
  if (adapters_.contains(name)) {
    return absl::AlreadyExistsError(
        absl::StrCat("adapter '", absl::CHexEscape(name), "' already exists"));
  }
  auto adapter = std::make_unique<AdapterImpl>(this, name, options, *std::move(policy));
  // In place before any call can reach the adapter.
  adapter->InstallAccessControl(std::move(access));
  ObjectAdapter* raw = adapter.get();
  adapters_.emplace(std::move(name), std::move(adapter));
  return raw;
}

ObjectAdapter* ServerImpl::FindAdapter(absl::string_view name) const {
  korb::ReaderMutexLock lock(&mu_);
  auto it = adapters_.find(name);
  return it == adapters_.end() ? nullptr : it->second.get();
}

std::vector<std::string> ServerImpl::AdapterNames() const {
  std::vector<std::string> names;
  {
    korb::ReaderMutexLock lock(&mu_);
    names.reserve(adapters_.size());
    for (const auto& [name, adapter] : adapters_) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

void ServerImpl::SetDefaultObject(absl::string_view interface, AdapterImpl* adapter,
                                    std::string id) {
  korb::MutexLock lock(&mu_);
  default_objects_.insert_or_assign(std::string(interface),
                                    DefaultObject{adapter, std::move(id)});
}

absl::Status ServerImpl::NoSuchAdapter(absl::string_view name) const {
  if (absl::Now() < startup_ends_) {
    return WithErrorKind(
        absl::UnavailableError(absl::StrCat("object adapter '", Echo(name),
                                            "' is not created yet: the server is starting")),
        ErrorKind::kTransient);
  }
  absl::Status status = absl::NotFoundError(
      absl::StrCat("no object adapter '", Echo(name), "' on this server"));
  return WithErrorKind(std::move(status), ErrorKind::kObjectNotExist);
}

void ServerImpl::Shutdown(absl::Duration grace) {
  bool first;
  {
    MutexLock lock(&mu_);
    first = !shutting_down_;
    shutting_down_ = true;
  }
  if (!first) {
    shut_down_.WaitForNotification();
    return;
  }
  // New calls are refused as transient from here (Route). Adapters let the
  // calls they dispatched finish until the deadline, then reject what is
  // still queued; gRPC then cancels whatever is left and stops.
  absl::Time deadline = absl::Now() + grace;
  std::vector<AdapterImpl*> adapters;
  {
    ReaderMutexLock lock(&mu_);
    for (auto& [name, adapter] : adapters_) adapters.push_back(adapter.get());
  }
  for (AdapterImpl* adapter : adapters) {
    adapter->Shutdown(std::max(absl::ZeroDuration(), deadline - absl::Now())).IgnoreError();
  }
  // gRPC's graceful shutdown waits for the calls and then for every client to
  // close its connection, which a client process with no call in flight may
  // not do before the deadline: it need not read the GOAWAY until its next
  // call. So wait for the calls here, where they are counted, and give gRPC
  // only a short linger for the goodbye before it cuts the connections.
  {
    MutexLock lock(&calls_mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(calls_mu_) { return open_calls_ == 0; };
    calls_mu_.AwaitWithDeadline(absl::Condition(&done), deadline);
  }
  if (grpc_server_ != nullptr) {
    grpc_server_->Shutdown(
        absl::ToChronoTime(std::max(absl::Now(), std::min(deadline, absl::Now() + kGoawayLinger))));
    grpc_server_->Wait();
  }
  // Collocated calls were refused like gRPC ones until here; those still
  // open hold this object.
  LocalServers::Unregister(this);
  shut_down_.Notify();
}

void ServerImpl::CallOpened() {
  MutexLock lock(&calls_mu_);
  ++open_calls_;
}

void ServerImpl::CallClosed() {
  MutexLock lock(&calls_mu_);
  --open_calls_;
}

void ServerImpl::Wait() const { shut_down_.WaitForNotification(); }

}  // namespace internal
}  // namespace korb
