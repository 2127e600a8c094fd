// korb::testing::TcpProxy: a TCP relay on 127.0.0.1 between clients and one
// server that a test can make drop every open connection at once (CutAll),
// as a network failure would, while both ends stay up.
//
// Thread-safe: CutAll() and cuts() may be called from any thread while
// connections are relayed.
//
// Usage:
//   absl::StatusOr<std::unique_ptr<TcpProxy>> proxy = TcpProxy::Start(server_endpoint);
//   Ref ref("pkg.Iface", {(*proxy)->endpoint()}, "adapter", "id");  // calls go through it
//   (*proxy)->CutAll();    // calls in flight fail UNAVAILABLE; new ones reconnect
#ifndef KORB_TESTS_E2E_TCP_PROXY_H_
#define KORB_TESTS_E2E_TCP_PROXY_H_

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/ref.h"
#include "common/sync.h"

namespace korb::testing {

class TcpProxy {
 public:
  // Listens on a free port of 127.0.0.1 and relays every accepted
  // connection to `target`.
  static absl::StatusOr<std::unique_ptr<TcpProxy>> Start(const HostPort& target);
  // Stops accepting, cuts every connection and joins every thread.
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // Where clients connect.
  const HostPort& endpoint() const { return endpoint_; }
  // Closes every connection relayed now, both sides (new ones are accepted
  // and relayed as before). Returns how many it closed.
  int CutAll() ABSL_LOCKS_EXCLUDED(mu_);
  // Connections closed by CutAll() so far.
  int cuts() const { return cuts_.load(); }

 private:
  struct Pair {
    int client_fd = -1;
    int server_fd = -1;
    bool cut = false;  // CutAll() shut it down
    // The relay closed both sockets, so CutAll() must not touch their
    // numbers, which may already belong to other sockets.
    bool closed = false;
  };

  TcpProxy(HostPort target, int listen_fd, HostPort endpoint);
  void AcceptLoop();
  // Copies bytes both ways until either side closes or the pair is cut,
  // then closes both sockets.
  void Relay(std::shared_ptr<Pair> pair) ABSL_LOCKS_EXCLUDED(mu_);

  const HostPort target_;
  const int listen_fd_;
  const HostPort endpoint_;
  std::atomic<int> cuts_{0};
  std::atomic<bool> stopping_{false};
  Mutex mu_;
  // Pair fields are guarded by mu_ too.
  std::vector<std::shared_ptr<Pair>> pairs_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> relays_ ABSL_GUARDED_BY(mu_);
  std::thread acceptor_;
};

}  // namespace korb::testing

#endif  // KORB_TESTS_E2E_TCP_PROXY_H_
