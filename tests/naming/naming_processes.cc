#include "tests/naming/naming_processes.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/wire.h"
#include "korb/naming.korb.h"

namespace korb::naming::testing {
namespace {

// A connected TCP socket to 127.0.0.1:port with 2 s timeouts, or -1.
int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval timeout{.tv_sec = 2, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// True if etcd's HTTP /health on `port` says it is healthy (it serves HTTP
// and gRPC on its client port).
bool EtcdHealthy(int port) {
  const int fd = Connect(port);
  if (fd < 0) return false;
  const std::string request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  bool healthy = false;
  if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    std::string response;
    char buffer[1024];
    ssize_t n;
    while ((n = read(fd, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
    healthy = absl::StrContains(response, "\"health\":\"true\"");
  }
  close(fd);
  return healthy;
}

int PortOf(const std::string& endpoint) { return std::stoi(endpoint.substr(endpoint.rfind(':') + 1)); }

}  // namespace

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string Local(int port) { return absl::StrCat("127.0.0.1:", port); }

absl::StatusOr<RefProcess> StartWithRef(const std::string& binary,
                                        const std::vector<std::string>& args) {
  std::vector<std::string> argv = {binary};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<korb::testing::Subprocess> process = korb::testing::Subprocess::Start(argv);
  if (!process.ok()) return process.status();
  absl::StatusOr<std::string> line = process->ReadLine(absl::Seconds(30));
  if (!line.ok()) {
    return absl::Status(line.status().code(),
                        absl::StrCat(binary, " printed no reference: ", line.status().message()));
  }
  absl::StatusOr<Ref> ref = Ref::Parse(*line);
  if (!ref.ok()) return ref.status();
  return RefProcess{*std::move(process), *std::move(ref)};
}

absl::StatusOr<RefProcess> StartRegisteredServer(const std::string& binary, const Ref& naming,
                                                 const std::string& name, int ttl) {
  return StartWithRef(binary, {"--naming", naming.ToString(), "--name", name, "--ttl",
                               std::to_string(ttl)});
}

absl::Status AwaitRegistered(RefProcess& server) {
  absl::StatusOr<std::string> line = server.process.ReadLine(absl::Seconds(60));
  if (!line.ok()) {
    return absl::DeadlineExceededError(
        absl::StrCat("the server did not register within 60 s: ", line.status().message()));
  }
  if (*line != "registered") return absl::InternalError("unexpected output: " + *line);
  return absl::OkStatus();
}

absl::StatusOr<ResolveReply> ResolveName(Client& client, const Ref& naming,
                                         const std::string& name) {
  NamingContextStub stub(client, naming);
  NameRequest request;
  request.set_name(name);
  return stub.Resolve(request, {.timeout = absl::Seconds(5)});
}

bool IsUnbound(Client& client, const Ref& naming, const std::string& name) {
  absl::StatusOr<ResolveReply> reply = ResolveName(client, naming, name);
  return !reply.ok() && ErrorKindOf(reply.status()) == ErrorKind::kNameNotBound;
}

bool Eventually(absl::Duration timeout, const std::function<bool()>& probe) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (probe()) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(50));
  }
}

std::optional<std::string> EtcdProcess::Binary() {
  const char* from_env = getenv("KORB_ETCD");
  std::string binary = from_env != nullptr ? from_env : "/usr/bin/etcd";
  if (access(binary.c_str(), X_OK) != 0) return std::nullopt;
  return binary;
}

absl::StatusOr<EtcdProcess> EtcdProcess::Start() {
  std::optional<std::string> binary = Binary();
  if (!binary) return absl::NotFoundError("etcd is not installed (apt-get install etcd-server)");
  EtcdProcess etcd;
  etcd.binary_ = *binary;
  std::string dir_template =
      (std::filesystem::temp_directory_path() / "korb-etcd-XXXXXX").string();
  if (mkdtemp(dir_template.data()) == nullptr) return absl::InternalError("mkdtemp failed");
  etcd.data_dir_ = dir_template;
  etcd.endpoint_ = Local(FreePort());
  etcd.peer_url_ = absl::StrCat("http://", Local(FreePort()));
  if (absl::Status status = etcd.Launch(); !status.ok()) return status;
  return etcd;
}

absl::Status EtcdProcess::Launch() {
  const std::string client_url = absl::StrCat("http://", endpoint_);
  absl::StatusOr<korb::testing::Subprocess> process = korb::testing::Subprocess::Start({
      binary_, "--name", "korbtest", "--data-dir", data_dir_ + "/data",
      "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
      "--listen-peer-urls", peer_url_, "--initial-advertise-peer-urls", peer_url_,
      "--initial-cluster", "korbtest=" + peer_url_, "--logger", "zap", "--log-outputs",
      data_dir_ + "/etcd.log"});
  if (!process.ok()) return process.status();
  process_.emplace(*std::move(process));
  const int port = PortOf(endpoint_);
  if (!Eventually(absl::Seconds(60), [port] { return EtcdHealthy(port); })) {
    return absl::DeadlineExceededError(
        absl::StrCat("etcd on ", endpoint_, " did not answer within 60 s; see ", data_dir_,
                     "/etcd.log"));
  }
  return absl::OkStatus();
}

absl::Status EtcdProcess::Restart() {
  if (process_) process_->Kill(SIGKILL);
  process_.reset();
  return Launch();
}

absl::Status EtcdProcess::RestartEmpty() {
  if (process_) process_->Kill(SIGKILL);
  process_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(data_dir_ + "/data", ignored);
  return Launch();
}

void EtcdProcess::Stop() {
  if (process_) process_->Kill(SIGTERM);
  process_.reset();
}

EtcdProcess::EtcdProcess(EtcdProcess&& other) noexcept
    : binary_(std::move(other.binary_)),
      data_dir_(std::exchange(other.data_dir_, std::string())),
      endpoint_(std::move(other.endpoint_)),
      peer_url_(std::move(other.peer_url_)),
      process_(std::move(other.process_)) {
  other.process_.reset();
}

EtcdProcess::~EtcdProcess() {
  if (data_dir_.empty()) return;  // moved from
  Stop();
  std::error_code ignored;
  std::filesystem::remove_all(data_dir_, ignored);
}

}  // namespace korb::naming::testing
