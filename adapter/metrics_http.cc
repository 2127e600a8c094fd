#include "adapter/metrics_http.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "adapter/metrics.h"
#include "adapter/object_adapter.h"
#include "common/log.h"
#include "common/sync.h"

namespace korb {
namespace {

constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

// cpp-httplib's ThreadPool queues every accepted connection without bound.
// This one holds at most `max_queued` and makes the accept loop wait beyond
// that, so a connection flood waits in the kernel's backlog, not in memory.
class BoundedTaskQueue : public httplib::TaskQueue {
 public:
  BoundedTaskQueue(int threads, size_t max_queued) : max_queued_(max_queued) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
  }
  ~BoundedTaskQueue() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &BoundedTaskQueue::HasRoom));
    jobs_.push_back(std::move(fn));
  }

  // cpp-httplib calls it once the accept loop has ended; idempotent.
  void shutdown() override {
    {
      MutexLock lock(&mu_);
      shutdown_ = true;
    }
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

 private:
  bool HasRoom() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return jobs_.size() < max_queued_ || shutdown_;
  }
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !jobs_.empty() || shutdown_; }

  void Work() {
    for (;;) {
      std::function<void()> job;
      {
        MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &BoundedTaskQueue::HasWork));
        // Queued connections are served even during shutdown: each job owns
        // a socket that only the job closes.
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  const size_t max_queued_;
  Mutex mu_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;  // set in the constructor only
};

// A label value: the format's escapes, then %XX for what would not be
// printable UTF-8 (adapter names are arbitrary bytes).
std::string LabelValue(absl::string_view raw) {
  std::string out;
  for (unsigned char c : raw) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f || c == '%') {
      absl::StrAppendFormat(&out, "%%%02X", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// One metric family: HELP and TYPE once, then one sample per adapter.
struct Family {
  const char* name;
  const char* type;
  const char* help;
  std::string samples;
};

class PageBuilder {
 public:
  Family& Add(const char* name, const char* type, const char* help) {
    families_.push_back({name, type, help, ""});
    return families_.back();
  }
  static void Sample(Family& family, absl::string_view suffix, absl::string_view labels,
                     double value) {
    absl::StrAppend(&family.samples, family.name, suffix, "{", labels, "} ",
                    absl::StrFormat("%.17g", value), "\n");
  }
  std::string Build() const {
    std::string page;
    for (const Family& f : families_) {
      absl::StrAppend(&page, "# HELP ", f.name, " ", f.help, "\n# TYPE ", f.name, " ", f.type,
                      "\n", f.samples);
    }
    return page;
  }

 private:
  std::deque<Family> families_;  // deque: Add() keeps earlier references valid
};

}  // namespace

std::string RenderPrometheusText(const ObjectServer& server) {
  PageBuilder page;
  Family& calls = page.Add("korb_adapter_calls_total", "counter", "Calls answered (run or rejected).");
  Family& errors = page.Add("korb_adapter_errors_total", "counter",
                            "Calls answered with a non-OK status.");
  Family& cancelled = page.Add("korb_adapter_cancelled_total", "counter",
                               "Calls cancelled by their caller (or deadline) before the answer.");
  Family& latency = page.Add("korb_adapter_call_latency_seconds", "summary",
                             "Time from routing to reply of answered calls (quantiles are "
                             "bucket upper bounds, within 19 %).");
  Family& threads = page.Add("korb_adapter_threads", "gauge",
                             "Threads the adapter's threading policies own.");
  Family& queued = page.Add("korb_adapter_queued_calls", "gauge",
                            "Calls waiting for a policy thread.");
  Family& queued_lane = page.Add("korb_adapter_queued_calls_by_priority", "gauge",
                                 "Calls waiting for a policy thread, per priority lane.");
  Family& held = page.Add("korb_adapter_held_calls", "gauge",
                          "Calls waiting while the adapter is holding.");
  Family& running = page.Add("korb_adapter_running_calls", "gauge",
                             "Servant calls executing now.");
  Family& objects = page.Add("korb_adapter_active_objects", "gauge", "Objects in the active object map.");
  Family& tlp = page.Add("korb_adapter_tlp", "gauge",
                         "Thread-level parallelism: mean running calls while at least one runs.");
  Family& busy = page.Add("korb_adapter_busy_seconds_total", "counter",
                          "Time with at least one servant call executing.");
  Family& lifecycle = page.Add("korb_adapter_lifecycle_events_total", "counter",
                               "Servant manager events: incarnations, etherealizations, "
                               "evictions, state saves, and their failures.");
  Family& state = page.Add("korb_adapter_state", "gauge",
                           "1 for the adapter's current lifecycle state, 0 for the others.");

  for (const std::string& name : server.AdapterNames()) {
    const ObjectAdapter* adapter = server.FindAdapter(name);
    if (adapter == nullptr) continue;
    const AdapterMetrics m = adapter->Metrics();
    const AdapterState current = adapter->state();
    const std::string label = absl::StrCat("adapter=\"", LabelValue(name), "\"");
    PageBuilder::Sample(calls, "", label, m.calls);
    PageBuilder::Sample(errors, "", label, m.errors);
    PageBuilder::Sample(cancelled, "", label, m.cancelled);
    for (double q : {0.5, 0.9, 0.99}) {
      PageBuilder::Sample(latency, "", absl::StrCat(label, ",quantile=\"", q, "\""),
                          m.latency.Percentile(q) / 1e6);
    }
    PageBuilder::Sample(latency, "_sum", label, m.latency.sum_micros() / 1e6);
    PageBuilder::Sample(latency, "_count", label, m.latency.count());
    PageBuilder::Sample(threads, "", label, m.policy.threads);
    PageBuilder::Sample(queued, "", label, m.policy.queued);
    for (const auto& [priority, n] : m.policy.queued_by_priority) {
      PageBuilder::Sample(queued_lane, "", absl::StrCat(label, ",priority=\"", priority, "\""), n);
    }
    PageBuilder::Sample(held, "", label, m.held_calls);
    PageBuilder::Sample(running, "", label, m.running_calls);
    PageBuilder::Sample(objects, "", label, m.active_objects);
    PageBuilder::Sample(tlp, "", label, m.tlp);
    PageBuilder::Sample(busy, "", label, absl::ToDoubleSeconds(m.busy_time));
    const std::pair<const char*, uint64_t> events[] = {
        {"incarnated", m.lifecycle.incarnations},
        {"incarnation_failed", m.lifecycle.failed_incarnations},
        {"etherealized", m.lifecycle.etherealizations},
        {"evicted", m.lifecycle.evictions},
        {"saved", m.lifecycle.saves},
        {"save_failed", m.lifecycle.failed_saves}};
    for (const auto& [event, n] : events) {
      PageBuilder::Sample(lifecycle, "", absl::StrCat(label, ",event=\"", event, "\""), n);
    }
    for (AdapterState s : {AdapterState::kActive, AdapterState::kHolding,
                           AdapterState::kDiscarding, AdapterState::kDeactivating,
                           AdapterState::kInactive}) {
      PageBuilder::Sample(state, "",
                          absl::StrCat(label, ",state=\"", LabelValue(AdapterStateName(s)), "\""),
                          s == current ? 1 : 0);
    }
  }
  return page.Build();
}

namespace {

class MetricsHttpServerImpl : public MetricsHttpServer {
 public:
  MetricsHttpServerImpl(std::unique_ptr<httplib::Server> http, std::string address, int port)
      : http_(std::move(http)), address_(std::move(address)), port_(port) {
    thread_ = std::thread([this] {
      if (!http_->listen_after_bind()) {
        KORB_LOG(kError, "adapter") << "metrics listener on " << address_ << ":" << port_
                                    << " stopped with an error";
      }
      listen_returned_.store(true);
    });
  }
  ~MetricsHttpServerImpl() override { Stop(); }

  int port() const override { return port_; }
  std::string url() const override {
    const bool v6 = address_.find(':') != std::string::npos;
    return absl::StrCat("http://", v6 ? "[" : "", address_, v6 ? "]" : "", ":", port_,
                        "/metrics");
  }
  void Stop() override {
    MutexLock lock(&stop_mu_);
    if (!thread_.joinable()) return;
    // httplib's stop() is a no-op until listen_after_bind() has marked the
    // server running, which the listener thread does right after it starts.
    while (!http_->is_running() && !listen_returned_.load()) absl::SleepFor(absl::Milliseconds(1));
    http_->stop();
    thread_.join();
  }

 private:
  const std::unique_ptr<httplib::Server> http_;
  const std::string address_;
  const int port_;
  Mutex stop_mu_;  // serializes Stop()
  std::atomic<bool> listen_returned_{false};
  std::thread thread_;  // last: started once the members it reads exist
};

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const ObjectServer* server, MetricsHttpOptions options) {
  if (server == nullptr) return absl::InvalidArgumentError("MetricsHttpServer: null server");
  if (options.threads < 1 || options.threads > 16) {
    return absl::InvalidArgumentError("MetricsHttpOptions::threads must be in 1..16");
  }
  if (options.max_queued_connections < 1 || options.max_queued_connections > 1024) {
    return absl::InvalidArgumentError(
        "MetricsHttpOptions::max_queued_connections must be in 1..1024");
  }
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError("MetricsHttpOptions::port must be in 0..65535");
  }
  if (options.io_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("MetricsHttpOptions::io_timeout must be positive");
  }
  auto http = std::make_unique<httplib::Server>();
  const int threads = options.threads;
  const size_t max_queued = options.max_queued_connections;
  http->new_task_queue = [threads, max_queued] {
    return new BoundedTaskQueue(threads, max_queued);
  };
  // cpp-httplib's default also sets SO_REUSEPORT, with which a second
  // process on the same port would silently take half the scrapes.
  http->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  http->set_payload_max_length(options.max_request_body_bytes);
  const auto timeout = absl::ToChronoMicroseconds(options.io_timeout);
  http->set_read_timeout(timeout);
  http->set_write_timeout(timeout);
  http->set_keep_alive_timeout(
      std::max<time_t>(1, static_cast<time_t>(absl::ToInt64Seconds(options.io_timeout))));
  http->Get("/metrics", [server](const httplib::Request&, httplib::Response& response) {
    response.set_content(RenderPrometheusText(*server), kContentType);
  });
  int port = options.port;
  if (port == 0) {
    port = http->bind_to_any_port(options.address);
  } else if (!http->bind_to_port(options.address, port)) {
    port = -1;
  }
  if (port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("metrics listener: cannot bind ", options.address, ":", options.port));
  }
  return std::unique_ptr<MetricsHttpServer>(
      new MetricsHttpServerImpl(std::move(http), options.address, port));
}

}  // namespace korb
