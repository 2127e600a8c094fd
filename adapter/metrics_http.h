// korb::MetricsHttpServer: an optional HTTP listener serving an ObjectServer's
// adapter metrics at /metrics in Prometheus' text exposition format (0.0.4),
// and RenderPrometheusText(), the page it serves.
//
// Separate library (korb::prometheus, built on Debian's libcpp-httplib-dev):
// a server that does not want an HTTP port does not link an HTTP server.
// Every series is labelled adapter="<name>" (docs/operations.md lists them):
// calls, errors, cancellations, a latency summary, threads, queued and held
// calls, running calls, active objects, TLP, busy time, lifecycle events and
// the adapter's state.
//
// Bounds, because anyone who reaches the port can send anything: a fixed
// number of handler threads (MetricsHttpOptions::threads) and accepted
// connections waiting for them (max_queued_connections; beyond it the
// listener stops accepting and the kernel's backlog holds the rest); request
// bodies up to max_request_body_bytes (413 beyond); the request line and each
// header line up to 8 KiB and a read timeout (cpp-httplib's own limits).
// Only GET /metrics is served; anything else is 404.
//
// Thread-safety: thread-safe. Lifetime: the ObjectServer passed to Start()
// must outlive the MetricsHttpServer (stop it, or destroy it, first).
//
// Usage:
//   korb::MetricsHttpOptions options;
//   options.address = "127.0.0.1";
//   options.port = 0;  // a free port
//   ASSIGN_OR_RETURN(std::unique_ptr<korb::MetricsHttpServer> metrics,
//                    korb::MetricsHttpServer::Start(server.get(), options));
//   std::cout << metrics->url() << "\n";  // http://127.0.0.1:40123/metrics
#ifndef KORB_ADAPTER_METRICS_HTTP_H_
#define KORB_ADAPTER_METRICS_HTTP_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "adapter/object_server.h"

namespace korb {

struct MetricsHttpOptions {
  // Address to listen on: an IP address or host name, "0.0.0.0" for every
  // interface. The default keeps the page on this machine.
  std::string address = "127.0.0.1";
  // TCP port; 0 picks a free one (MetricsHttpServer::port() reports it).
  int port = 0;
  // Handler threads, 1..16.
  int threads = 2;
  // Accepted connections waiting for a handler thread, 1..1024.
  size_t max_queued_connections = 64;
  // Largest request body accepted (a scrape has none), bytes.
  size_t max_request_body_bytes = 1024;
  // How long a connection may take to send its request, and to read the reply.
  absl::Duration io_timeout = absl::Seconds(5);
};

class MetricsHttpServer {
 public:
  // Binds and starts serving `server`'s metrics. INVALID_ARGUMENT for options
  // out of range or a null server, UNAVAILABLE if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(const ObjectServer* server,
                                                                  MetricsHttpOptions options);
  virtual ~MetricsHttpServer() = default;  // Stop()

  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // The bound port.
  virtual int port() const = 0;
  // "http://<address>:<port>/metrics".
  virtual std::string url() const = 0;
  // Stops listening and waits for requests in progress. Idempotent.
  virtual void Stop() = 0;

 protected:
  MetricsHttpServer() = default;
};

// The /metrics page for `server`: every adapter's metrics, in Prometheus'
// text format. Adapter names are label values: '\', '"' and newline are
// escaped as the format says; bytes outside printable ASCII, and '%', are
// written as %XX so the page stays valid UTF-8.
std::string RenderPrometheusText(const ObjectServer& server);

}  // namespace korb

#endif  // KORB_ADAPTER_METRICS_HTTP_H_
