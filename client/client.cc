#include "client/client.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <iostream>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/strings/str_cat.h"
#include "client/internal/location_cache.h"
#include "common/log.h"
#include "client/internal/name_resolver.h"
#include "client/internal/timer_queue.h"
#include "common/tls_files.h"

namespace korb {
namespace {

// A duration as the int milliseconds channel arguments take, saturated.
int Millis(absl::Duration d) {
  const int64_t ms = absl::ToInt64Milliseconds(std::max(d, absl::ZeroDuration()));
  return static_cast<int>(std::min<int64_t>(ms, std::numeric_limits<int>::max()));
}

double Weight(double w) { return w > 0 && w <= 1 ? w : 1.0; }

internal::HealthOptions HealthOptionsOf(const ClientOptions& options) {
  internal::HealthOptions health;
  health.failback_initial_backoff = std::max(options.failback_initial_backoff, absl::ZeroDuration());
  health.failback_max_backoff =
      std::max(options.failback_max_backoff, health.failback_initial_backoff);
  health.load_smoothing = Weight(options.load_smoothing);
  health.latency_smoothing = Weight(options.latency_smoothing);
  health.stats_max_age = options.stats_max_age;
  return health;
}

// TLS credentials for `tls`: the server's certificate must chain to the
// trusted CAs and name the host called; a client certificate is offered when
// configured. Files that do not check are reported once here and make every
// handshake fail, so calls fail UNAVAILABLE rather than go out in plaintext.
std::shared_ptr<grpc::ChannelCredentials> TlsCredentials(const ClientTlsOptions& tls) {
  const bool identity = !tls.certificate_chain_file.empty() || !tls.private_key_file.empty();
  std::vector<std::pair<const char*, const std::string*>> files;
  if (!tls.ca_file.empty()) files.emplace_back("ClientOptions.tls.ca_file", &tls.ca_file);
  if (identity) {
    files.emplace_back("ClientOptions.tls.certificate_chain_file", &tls.certificate_chain_file);
    files.emplace_back("ClientOptions.tls.private_key_file", &tls.private_key_file);
  }
  for (const auto& [option, path] : files) {
    if (absl::Status checked = CheckPemFile(option, *path); !checked.ok()) {
      KORB_LOG(kError, "client") << checked.message() << ": TLS handshakes will fail";
    }
  }
  grpc::experimental::TlsChannelCredentialsOptions options;
  if (!tls.ca_file.empty() || identity) {
    options.set_certificate_provider(
        std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
            identity ? tls.private_key_file : "", identity ? tls.certificate_chain_file : "",
            tls.ca_file, RefreshSeconds(tls.refresh_interval)));
    if (!tls.ca_file.empty()) options.watch_root_certs();  // else the system's roots
    if (identity) options.watch_identity_key_cert_pairs();
  }
  options.set_verify_server_certs(true);
  options.set_certificate_verifier(
      std::make_shared<grpc::experimental::HostNameCertificateVerifier>());
  return grpc::experimental::TlsCredentials(options);
}

std::string CollocatedPeer(const ClientOptions& options) {
  static std::atomic<uint64_t> clients{0};
  if (!options.private_connections) return "collocated";
  return absl::StrCat("collocated:", ++clients);
}

}  // namespace

Client::Client(ClientOptions options)
    : options_(std::move(options)),
      health_options_(HealthOptionsOf(options_)),
      collocated_peer_(CollocatedPeer(options_)),
      locations_(std::make_unique<internal::LocationCache>(options_.location_cache_capacity)),
      names_(std::make_unique<internal::NameResolver>(this)),
      timers_(std::make_unique<internal::TimerQueue>()) {}

Client::~Client() {
  // Watches are asynchronous calls that would otherwise run for a whole
  // long-poll: cut them first.
  names_->Shutdown();
  korb::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* in_flight) { return *in_flight == 0; }, &async_calls_in_flight_));
}

std::shared_ptr<grpc::Channel> Client::Channel(const HostPort& endpoint) {
  {
    korb::MutexLock lock(&mu_);
    auto it = channels_.find(endpoint);
    if (it != channels_.end()) {
      it->second.last_used = ++uses_;
      return it->second.value;
    }
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  args.SetMaxSendMessageSize(options_.max_send_message_bytes);
  if (options_.private_connections) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // Korb retries (replica-aware, deadline-bounded, with request ids); gRPC's
  // own retries would multiply attempts underneath them.
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  if (options_.keepalive.time != absl::InfiniteDuration()) {
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, Millis(options_.keepalive.time));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, Millis(options_.keepalive.timeout));
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
                options_.keepalive.permit_without_calls ? 1 : 0);
  }
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, Millis(options_.reconnect.initial_backoff));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, Millis(options_.reconnect.max_backoff));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, Millis(options_.reconnect.min_connect_timeout));
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (endpoint.tls) {
    {
      korb::ReaderMutexLock lock(&mu_);
      credentials = tls_credentials_;
    }
    if (credentials == nullptr) {
      // Reads the PEM files: outside the lock. A racing thread's copy is
      // dropped, so every TLS channel shares one file watcher.
      std::shared_ptr<grpc::ChannelCredentials> made = TlsCredentials(options_.tls);
      korb::MutexLock lock(&mu_);
      if (tls_credentials_ == nullptr) tls_credentials_ = std::move(made);
      credentials = tls_credentials_;
    }
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(endpoint.ToString(), credentials, args);
  korb::MutexLock lock(&mu_);
  // Another thread may have won the race; keep the first channel so every
  // stub to this endpoint shares one connection.
  auto [it, inserted] = channels_.try_emplace(endpoint, Kept<grpc::Channel>{std::move(channel)});
  it->second.last_used = ++uses_;
  std::shared_ptr<grpc::Channel> result = it->second.value;
  if (inserted) TrimLocked(channels_);
  return result;
}

template <typename T>
void Client::TrimLocked(absl::flat_hash_map<HostPort, Kept<T>>& map) {
  // Called when an entry was just made: it is in use now and idle once its
  // caller lets go, so it counts as idle already.
  const size_t keep = options_.max_idle_channels > 0 ? options_.max_idle_channels - 1 : 0;
  if (map.size() <= keep) return;
  std::vector<std::pair<uint64_t, HostPort>> idle;
  for (const auto& [endpoint, kept] : map) {
    if (kept.value.use_count() == 1) idle.emplace_back(kept.last_used, endpoint);
  }
  if (idle.size() <= keep) return;
  // Oldest first. A channel closes when its last holder lets go: here, or
  // after a call that copied it meanwhile.
  std::sort(idle.begin(), idle.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < idle.size() - keep; ++i) map.erase(idle[i].second);
}

std::shared_ptr<internal::EndpointHealth> Client::Health(const HostPort& endpoint) {
  korb::MutexLock lock(&mu_);
  auto [it, inserted] = health_.try_emplace(endpoint);
  if (inserted) it->second.value = std::make_shared<internal::EndpointHealth>(&health_options_);
  it->second.last_used = ++uses_;
  std::shared_ptr<internal::EndpointHealth> result = it->second.value;
  if (inserted) TrimLocked(health_);
  return result;
}

size_t Client::channel_count() const {
  korb::MutexLock lock(&mu_);
  return channels_.size();
}

size_t Client::health_count() const {
  korb::MutexLock lock(&mu_);
  return health_.size();
}

EndpointStats Client::EndpointStatsFor(const HostPort& endpoint) const {
  std::shared_ptr<const internal::EndpointHealth> health;
  {
    korb::MutexLock lock(&mu_);
    auto it = health_.find(endpoint);
    if (it == health_.end()) return EndpointStats();
    health = it->second.value;
  }
  return health->Stats();
}

std::optional<Ref> Client::CachedLocation(const Ref& ref) const {
  if (locations_->empty()) return std::nullopt;
  std::shared_ptr<const internal::Target> location = locations_->Get(ref);
  if (location == nullptr) return std::nullopt;
  return location->ref;
}

std::optional<Ref> Client::CachedResolution(const Ref& ref) const {
  if (!ref.is_indirect()) return std::nullopt;
  return names_->Cached(ref);
}

void Client::BeginAsyncCall() {
  korb::MutexLock lock(&mu_);
  ++async_calls_in_flight_;
}

void Client::EndAsyncCall() {
  korb::MutexLock lock(&mu_);
  --async_calls_in_flight_;
}

}  // namespace korb
