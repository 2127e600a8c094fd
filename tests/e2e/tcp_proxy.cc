#include "tests/e2e/tcp_proxy.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace korb::testing {
namespace {

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  return address;
}

// Writes all of `data`; false if the peer is gone.
bool WriteAll(int fd, const char* data, ssize_t size) {
  while (size > 0) {
    ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= n;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TcpProxy>> TcpProxy::Start(const HostPort& target) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  sockaddr_in address = Loopback(0);
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(fd, 64) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const int error = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("proxy listen: ", strerror(error)));
  }
  HostPort endpoint{"127.0.0.1", ntohs(address.sin_port)};
  std::unique_ptr<TcpProxy> proxy(new TcpProxy(target, fd, std::move(endpoint)));
  proxy->acceptor_ = std::thread([p = proxy.get()] { p->AcceptLoop(); });
  return proxy;
}

TcpProxy::TcpProxy(HostPort target, int listen_fd, HostPort endpoint)
    : target_(std::move(target)), listen_fd_(listen_fd), endpoint_(std::move(endpoint)) {}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
  acceptor_.join();
  close(listen_fd_);
  CutAll();
  std::vector<std::thread> relays;
  {
    MutexLock lock(&mu_);
    relays.swap(relays_);
  }
  for (std::thread& relay : relays) relay.join();
}

void TcpProxy::AcceptLoop() {
  while (!stopping_.load()) {
    int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR) continue;
      return;  // shut down
    }
    int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address = Loopback(target_.port);
    if (server < 0 || connect(server, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      if (server >= 0) close(server);
      close(client);
      continue;  // the client sees its connection closed, as if the server were down
    }
    const int one = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto pair = std::make_shared<Pair>();
    pair->client_fd = client;
    pair->server_fd = server;
    MutexLock lock(&mu_);
    pairs_.push_back(pair);
    relays_.emplace_back([this, pair] { Relay(pair); });
  }
}

void TcpProxy::Relay(std::shared_ptr<Pair> pair) {
  pollfd fds[2] = {{pair->client_fd, POLLIN, 0}, {pair->server_fd, POLLIN, 0}};
  char buffer[16384];
  for (bool open = true; open;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2 && open; ++i) {
      if (fds[i].revents == 0) continue;
      ssize_t n = recv(fds[i].fd, buffer, sizeof(buffer), 0);
      if (n < 0 && errno == EINTR) continue;
      open = n > 0 && WriteAll(fds[1 - i].fd, buffer, n);
    }
  }
  MutexLock lock(&mu_);
  close(pair->client_fd);
  close(pair->server_fd);
  pair->closed = true;
}

int TcpProxy::CutAll() {
  MutexLock lock(&mu_);
  int cut = 0;
  for (const std::shared_ptr<Pair>& pair : pairs_) {
    if (pair->closed || pair->cut) continue;
    pair->cut = true;
    // Wakes the relay, which closes both sockets; both peers see the
    // connection end (the server's calls on it are cancelled).
    shutdown(pair->client_fd, SHUT_RDWR);
    shutdown(pair->server_fd, SHUT_RDWR);
    ++cut;
  }
  std::erase_if(pairs_, [](const std::shared_ptr<Pair>& pair) { return pair->closed; });
  cuts_ += cut;
  return cut;
}

}  // namespace korb::testing
