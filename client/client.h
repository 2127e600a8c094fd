// korb::Client: the client runtime that generated stubs call through, and the
// one place where all of the client side is configured (ClientOptions). It
// owns one gRPC channel per endpoint (shared by every stub and call to that
// endpoint), what it learns about each endpoint (load, latency, failures:
// EndpointStats) for replica selection and failback, the location cache of
// forwarded references, a timer thread for the backoff of asynchronous
// retries, and the accounting that lets its destructor wait for asynchronous
// calls still in flight.
//
// Lifetime: every stub borrows its Client; the Client must outlive its stubs.
// Destroying a Client blocks until all its asynchronous calls have completed
// (their callbacks have returned); it must not be destroyed from one of them.
//
// Thread-safety: thread-safe.
//
// Usage:
//   korb::ClientOptions options;
//   options.default_timeout = absl::Seconds(10);
//   options.selection = korb::SelectionPolicy::kLeastLoaded;
//   options.tls.ca_file = "ca.pem";  // trust for korbs:// references
//   korb::Client client(options);
//   absl::StatusOr<bank::BankStub> bank = korb::MakeStub<bank::BankStub>(client, argv[1]);
//   if (!bank.ok()) return bank.status();
//   absl::StatusOr<korb::ObjectRef> account = bank->Open(owner);
#ifndef KORB_CLIENT_CLIENT_H_
#define KORB_CLIENT_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "client/endpoint_health.h"
#include "client/policy.h"
#include "common/ref.h"
#include "common/sync.h"

namespace grpc {
class Channel;
class ChannelCredentials;
}  // namespace grpc

namespace korb {

namespace internal {
class LocationCache;
class NameResolver;
class TimerQueue;
}  // namespace internal

// HTTP/2 keepalive of every channel: pings that detect a dead connection
// (peer gone without closing it) while calls are waiting on it.
struct KeepaliveOptions {
  // Ping after this long without activity (GRPC_ARG_KEEPALIVE_TIME_MS);
  // absl::InfiniteDuration() disables keepalive. Korb servers, like gRPC's,
  // by default answer pings more frequent than every 5 minutes with
  // GOAWAY ("too_many_pings"); lower it only against servers that allow it.
  absl::Duration time = absl::Minutes(5);
  // Close the connection if a ping is not answered within this long
  // (GRPC_ARG_KEEPALIVE_TIMEOUT_MS); its calls fail UNAVAILABLE and retry.
  absl::Duration timeout = absl::Seconds(20);
  // Ping even when no call is in flight (GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS).
  bool permit_without_calls = false;
};

// How a channel reconnects after its connection failed. While a channel is
// reconnecting its calls fail at once with UNAVAILABLE (and go to another
// replica); these bound how soon a restarted server is reached again.
struct ReconnectOptions {
  // Wait before the second connection attempt (GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS);
  // later waits grow ×1.6 with jitter up to max_backoff.
  absl::Duration initial_backoff = absl::Seconds(1);
  // The longest wait between connection attempts (GRPC_ARG_MAX_RECONNECT_BACKOFF_MS;
  // gRPC's default is 120 s).
  absl::Duration max_backoff = absl::Seconds(10);
  // The least time a connection attempt is given before it counts as failed
  // (GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, which gRPC uses as the minimum
  // connect timeout).
  absl::Duration min_connect_timeout = absl::Seconds(20);
};

// TLS of the channels to korbs:// and korbnames:// endpoints
// (docs/security.md). Paths of PEM files, re-read every refresh_interval.
// Plaintext endpoints (korb://) are never called with TLS, and TLS endpoints
// never in plaintext, whatever is set here.
struct ClientTlsOptions {
  // The CAs (PEM bundle) trusted to sign servers' certificates; empty: the
  // system's default roots. A server certificate must also name the host of
  // the reference (a DNS or IP subject alternative name).
  std::string ca_file;
  // mTLS: this client's certificate chain and private key, presented to
  // servers that ask for one. Both empty: none.
  std::string certificate_chain_file;
  std::string private_key_file;
  // How often the PEM files are read again (at least 1 s).
  absl::Duration refresh_interval = absl::Minutes(1);
};

// Every client-side setting, with its default. docs/client.md has the table.
struct ClientOptions {
  // Timeout of calls whose CallOptions set neither timeout nor deadline.
  absl::Duration default_timeout = absl::InfiniteDuration();
  // Largest reply accepted, in bytes (gRPC's default is 4 MiB).
  int max_receive_message_bytes = 4 * 1024 * 1024;
  // Largest request sent, in bytes; -1 for no limit.
  int max_send_message_bytes = -1;
  // By default gRPC shares one connection per server address among all
  // channels of a process, so every Client in a process reaches a server over
  // the same connection. With private_connections a Client opens its own
  // connections (gRPC's local subchannel pool): what thread-per-connection
  // servers need to tell two Clients of one process apart, at the price of a
  // connection per Client and endpoint.
  bool private_connections = false;
  // Calls to objects served by an ObjectServer of this process (one of the
  // reference's endpoints names it) go straight into its request pipeline,
  // without gRPC (docs/client.md, "Collocated calls"): every semantic of a
  // remote call holds, at a fraction of its cost. CallOptions::collocated
  // overrides it per call.
  bool collocated_calls = true;

  // --- Connections ---
  KeepaliveOptions keepalive{};
  ReconnectOptions reconnect{};
  // Trust and client certificate for TLS endpoints (korbs://).
  ClientTlsOptions tls{};

  // --- Replicas (references with several endpoints) ---
  // Selection policy of stubs and calls that set none.
  SelectionPolicy selection = SelectionPolicy::kOrderedFailover;
  // An endpoint that failed transiently is skipped for a backoff that starts
  // here and doubles with each failed probe, up to the maximum (failback).
  absl::Duration failback_initial_backoff = absl::Seconds(1);
  absl::Duration failback_max_backoff = absl::Seconds(30);
  // Weight of a new sample in the smoothed (EWMA) korb-load and latency of
  // an endpoint, in (0, 1]; 1 keeps only the latest sample.
  double load_smoothing = 0.5;
  double latency_smoothing = 0.3;
  // Load and latency samples older than this are ignored: the endpoint is
  // scored as unknown, so selection probes it again.
  absl::Duration stats_max_age = absl::Seconds(10);

  // --- Retries ---
  // gRPC's own retries are disabled on every channel
  // (GRPC_ARG_ENABLE_RETRIES=0): Korb's are replica-aware, bounded by the
  // call's deadline, and add request ids; two layers would multiply attempts.
  RetryPolicy retry{};

  // Channels (and endpoint records: EndpointStats) kept for endpoints that
  // no stub, cached location or call uses any more, so that a later stub
  // finds them; beyond this many the least recently used are closed. Bounds
  // what a server's forwards to ever new endpoints can make a Client hold.
  size_t max_idle_channels = 256;

  // --- Forwards ---
  // Forward hops one call follows before it fails (NOT_FOUND, korb-error: forward).
  int max_forward_hops = 5;
  // Forwarded references cached per Client (0 disables the cache).
  size_t location_cache_capacity = 10000;

  // --- Indirect references (korbname://, docs/naming.md) ---
  // Names whose resolution this Client caches; beyond it an arbitrary entry
  // is evicted (0: every call resolves its name).
  size_t name_cache_capacity = 1000;
  // The longest a Resolve call may take; the call's own deadline, if
  // sooner, wins.
  absl::Duration naming_timeout = absl::Seconds(5);
  // A cached resolution that is not watched is used for this long, then
  // resolved again (if the naming service does not answer, the old one
  // stays in use).
  absl::Duration name_max_age = absl::Seconds(10);
  // Follow changes of names in use with WaitForChanges long-polls, so that
  // replicas joining and leaving are seen within one Resolve of the change.
  bool watch_names = true;
  // Names watched at once (one long-poll outstanding each); names beyond
  // it rely on name_max_age.
  size_t max_watched_names = 64;
  // A name no call has used for this long stops being watched.
  absl::Duration name_watch_idle = absl::Seconds(60);
  // How long one long-poll waits for a change (WaitRequest.timeout_ms;
  // clamped to 1 ms..60 s).
  absl::Duration name_watch_poll = absl::Seconds(30);
};

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The channel to `endpoint`, created on first use and shared while
  // anything uses it (kept idle up to max_idle_channels): with TLS
  // (ClientOptions::tls) if endpoint.tls, else plaintext. Never null;
  // connection and handshake failures surface on calls (UNAVAILABLE).
  std::shared_ptr<grpc::Channel> Channel(const HostPort& endpoint)
      ABSL_LOCKS_EXCLUDED(mu_);

  const ClientOptions& options() const { return options_; }
  // Runtime side: the peer a collocated call shows the server (its
  // "connection"): one for the process, as gRPC shares one connection per
  // server, or one per Client with private_connections.
  const std::string& collocated_peer() const { return collocated_peer_; }

  // What this Client knows about `endpoint` (empty stats if it never
  // called it).
  EndpointStats EndpointStatsFor(const HostPort& endpoint) const ABSL_LOCKS_EXCLUDED(mu_);
  // The location calls to `ref` currently start at because the object was
  // forwarded, or nullopt if they go to `ref` itself.
  std::optional<Ref> CachedLocation(const Ref& ref) const;
  // The direct reference the indirect reference `ref` was last resolved to
  // (whether or not that is still fresh), or nullopt if none is cached.
  std::optional<Ref> CachedResolution(const Ref& ref) const;

  // Runtime side: the health record of `endpoint`, created on first use and
  // kept while anything holds it (idle ones up to max_idle_channels). Never
  // null.
  std::shared_ptr<internal::EndpointHealth> Health(const HostPort& endpoint)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Channels and health records held now (in use or idle).
  size_t channel_count() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t health_count() const ABSL_LOCKS_EXCLUDED(mu_);
  // Runtime side: the location cache and the retry timer thread.
  internal::LocationCache& locations() const { return *locations_; }
  // Runtime side: the resolver and cache of indirect references.
  internal::NameResolver& names() const { return *names_; }
  internal::TimerQueue& timers() const { return *timers_; }

  // Runtime side: brackets an asynchronous call so ~Client can wait for it.
  void BeginAsyncCall() ABSL_LOCKS_EXCLUDED(mu_);
  void EndAsyncCall() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const ClientOptions options_;
  const internal::HealthOptions health_options_;
  const std::string collocated_peer_;
  mutable korb::Mutex mu_;
  // A cached channel or health record and when it was last handed out.
  template <typename T>
  struct Kept {
    std::shared_ptr<T> value;
    uint64_t last_used = 0;
  };
  // Drops the least recently used entries of `map` that nothing but the map
  // holds, until at most max_idle_channels of them are idle.
  template <typename T>
  void TrimLocked(absl::flat_hash_map<HostPort, Kept<T>>& map) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  uint64_t uses_ ABSL_GUARDED_BY(mu_) = 0;  // the clock of last_used
  // Keyed by HostPort, which includes `tls`: a plaintext and a TLS channel
  // to one address are two channels.
  absl::flat_hash_map<HostPort, Kept<grpc::Channel>> channels_ ABSL_GUARDED_BY(mu_);
  // Made on the first TLS channel; shared by all of them (one file watcher).
  std::shared_ptr<grpc::ChannelCredentials> tls_credentials_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<HostPort, Kept<internal::EndpointHealth>> health_ ABSL_GUARDED_BY(mu_);
  const std::unique_ptr<internal::LocationCache> locations_;
  int async_calls_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  // Before timers_: its timer callbacks never outlive it.
  const std::unique_ptr<internal::NameResolver> names_;
  // Declared last: destroyed first, so its thread has stopped before the
  // state its callbacks touch goes away.
  const std::unique_ptr<internal::TimerQueue> timers_;
};

}  // namespace korb

#endif  // KORB_CLIENT_CLIENT_H_
