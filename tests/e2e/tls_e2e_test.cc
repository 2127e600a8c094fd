// TLS, mTLS and access control between processes: the test makes a CA, a
// server certificate (SAN 127.0.0.1, localhost), client certificates and an
// unknown CA's client certificate with openssl, starts tls_server processes
// and calls them with korb::Client over real TCP on 127.0.0.1.
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/client.h"
#include "common/ref.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korbtest/testing.korb.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace korb {
namespace {

using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::korb::testing::Subprocess;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr absl::Duration kStartTimeout = absl::Seconds(60);
constexpr absl::Duration kCallTimeout = absl::Seconds(20);

// Certificates for the whole suite, made once in a fresh directory.
class Certificates {
 public:
  static const Certificates& Get() {
    static const Certificates* const certificates = new Certificates();
    return *certificates;
  }
  std::string Path(absl::string_view name) const { return absl::StrCat(dir_, "/", name); }
  const std::string& error() const { return error_; }

 private:
  Certificates() {
    std::string pattern = ::testing::TempDir() + "/korb-tls-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      error_ = "mkdtemp failed";
      return;
    }
    dir_ = pattern;
    // A CA; a server certificate for 127.0.0.1 and localhost; clients alice
    // (with DNS and URI SANs), auditor and bob from the CA; and "alice" again
    // from a CA the server does not know.
    const std::string script = absl::StrCat(R"(set -e
cd ')", dir_, R"('
ca() { openssl req -x509 -newkey rsa:2048 -nodes -keyout $1.key -out $1.pem -days 2 -subj "/CN=$2" 2>/dev/null; }
cert() {  # name CA subject extensions
  openssl req -newkey rsa:2048 -nodes -keyout $1.key -out $1.csr -subj "$3" 2>/dev/null
  printf '%s\n' "$4" > $1.ext
  openssl x509 -req -in $1.csr -CA $2.pem -CAkey $2.key -CAcreateserial -out $1.pem -days 2 -extfile $1.ext 2>/dev/null
}
ca ca "Korb Test CA"
ca rogue-ca "Rogue CA"
cert server ca "/CN=korb-server" "subjectAltName=IP:127.0.0.1,DNS:localhost"
cert alice ca "/CN=alice/O=Korb" "subjectAltName=DNS:alice.example,URI:spiffe://korb/alice"
cert auditor ca "/CN=auditor/O=Korb" "basicConstraints=CA:FALSE"
cert bob ca "/CN=bob/O=Korb" "basicConstraints=CA:FALSE"
cert rogue rogue-ca "/CN=alice/O=Korb" "basicConstraints=CA:FALSE"
)");
    const std::string script_path = Path("make-certs.sh");
    std::ofstream(script_path) << script;
    const int rc = std::system(absl::StrCat("sh '", script_path, "'").c_str());
    if (rc != 0) error_ = absl::StrCat("openssl script ", script_path, " failed: ", rc);
  }

  std::string dir_;
  std::string error_;
};

// A running tls_server and the references it printed.
struct Server {
  Subprocess process;
  std::string open_ref;
  std::string guarded_ref;
};

enum class Mode { kPlaintext, kTls, kMutualTls };

absl::StatusOr<Server> StartServer(Mode mode) {
  const Certificates& certs = Certificates::Get();
  std::vector<std::string> argv = {KORB_TLS_SERVER, "--listen", "127.0.0.1:0"};
  if (mode != Mode::kPlaintext) {
    argv.insert(argv.end(), {"--cert", certs.Path("server.pem"), "--key", certs.Path("server.key")});
  }
  if (mode == Mode::kMutualTls) argv.insert(argv.end(), {"--client-ca", certs.Path("ca.pem")});
  absl::StatusOr<Subprocess> process = Subprocess::Start(argv);
  if (!process.ok()) return process.status();
  absl::StatusOr<std::string> open = process->ReadLine(kStartTimeout);
  if (!open.ok()) {
    return absl::DeadlineExceededError(
        absl::StrCat("tls_server printed no reference: ", open.status().ToString()));
  }
  absl::StatusOr<std::string> guarded = process->ReadLine(kStartTimeout);
  if (!guarded.ok()) return guarded.status();
  return Server{*std::move(process), *open, *guarded};
}

// Client options trusting the test CA, presenting `identity`'s certificate
// (from `ca`'s directory) unless it is empty.
ClientOptions TrustingClient(const std::string& identity = "") {
  const Certificates& certs = Certificates::Get();
  ClientOptions options;
  options.tls.ca_file = certs.Path("ca.pem");
  if (!identity.empty()) {
    options.tls.certificate_chain_file = certs.Path(identity + ".pem");
    options.tls.private_key_file = certs.Path(identity + ".key");
  }
  return options;
}

absl::StatusOr<korbtest::EchoReply> Echo(Client& client, const std::string& ref,
                                         std::optional<int32_t> priority = std::nullopt) {
  absl::StatusOr<korbtest::EchoStub> stub = MakeStub<korbtest::EchoStub>(client, ref);
  if (!stub.ok()) return stub.status();
  korbtest::EchoRequest request;
  request.set_text("hello");
  return stub->Echo(request, {.timeout = kCallTimeout, .priority = priority});
}

absl::Status Ping(Client& client, const std::string& ref) {
  absl::StatusOr<korbtest::EchoStub> stub = MakeStub<korbtest::EchoStub>(client, ref);
  if (!stub.ok()) return stub.status();
  return stub->Ping(Empty(), {.timeout = kCallTimeout}).status();
}

class TlsEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Certificates::Get().error(), "");
  }
};

TEST_F(TlsEndToEnd, TlsServerIssuesKorbsReferencesAndTrustingClientsCallIt) {
  // A TLS server's references say korbs://; a client trusting its CA calls
  // over TLS; the servant sees a TLS caller without a verified identity.
  absl::StatusOr<Server> server = StartServer(Mode::kTls);
  ASSERT_THAT(server, IsOk());
  EXPECT_THAT(server->open_ref, StartsWith("korbs://127.0.0.1:"));
  ASSERT_TRUE(Ref::Parse(server->open_ref)->tls());
  Client client(TrustingClient());
  absl::StatusOr<korbtest::EchoReply> reply = Echo(client, server->open_ref);
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->text(), "hello");
  EXPECT_EQ(reply->metadata(), "anonymous||||tls");
  // The plaintext twin of the reference is refused: no silent downgrade.
  absl::StatusOr<Ref> plain = Ref::Parse(server->open_ref);
  plain->set_tls(false);
  EXPECT_THAT(Echo(client, plain->ToString()), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(TlsEndToEnd, MutualTlsGivesTheServantTheClientsVerifiedIdentity) {
  // With mTLS the servant sees the client certificate's subject and SANs.
  absl::StatusOr<Server> server = StartServer(Mode::kMutualTls);
  ASSERT_THAT(server, IsOk());
  Client client(TrustingClient("alice"));
  absl::StatusOr<korbtest::EchoReply> reply = Echo(client, server->open_ref);
  ASSERT_THAT(reply, IsOk());
  std::vector<std::string> fields = absl::StrSplit(reply->metadata(), '|');
  ASSERT_EQ(fields.size(), 5u) << reply->metadata();
  EXPECT_EQ(fields[0], "verified");
  EXPECT_EQ(fields[1], "alice");
  EXPECT_THAT(fields[2], HasSubstr("CN=alice"));  // gRPC prints "O=Korb,CN=alice"
  EXPECT_THAT(fields[2], HasSubstr("O=Korb"));
  EXPECT_EQ(fields[3], "cn:alice,dns:alice.example,uri:spiffe://korb/alice");
  EXPECT_EQ(fields[4], "tls");
}

TEST_F(TlsEndToEnd, ClientWithoutTrustInTheServersCaFailsTheHandshake) {
  // No ca_file: the system's roots, which do not know the test CA.
  absl::StatusOr<Server> server = StartServer(Mode::kTls);
  ASSERT_THAT(server, IsOk());
  Client client;
  absl::StatusOr<korbtest::EchoReply> reply = Echo(client, server->open_ref);
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("Tls handshake failed")));
  EXPECT_THAT(reply.status().message(), HasSubstr("certificate verify failed"));
}

TEST_F(TlsEndToEnd, UnknownClientCertificateIsRefused) {
  // A certificate from a CA the server does not trust (even with CN=alice),
  // or none, does not get through an mTLS server's handshake.
  absl::StatusOr<Server> server = StartServer(Mode::kMutualTls);
  ASSERT_THAT(server, IsOk());
  Client rogue(TrustingClient("rogue"));
  EXPECT_THAT(Echo(rogue, server->guarded_ref),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("an mTLS server does this when it refuses the client certificate")));
  Client anonymous(TrustingClient());
  EXPECT_THAT(Echo(anonymous, server->open_ref),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("refuses the client certificate")));
}

TEST_F(TlsEndToEnd, PlaintextClientCannotCallATlsServer) {
  // The same address as a korb:// reference: the client speaks plaintext,
  // the server only TLS.
  absl::StatusOr<Server> server = StartServer(Mode::kTls);
  ASSERT_THAT(server, IsOk());
  absl::StatusOr<Ref> ref = Ref::Parse(server->open_ref);
  ASSERT_THAT(ref, IsOk());
  ref->set_tls(false);
  Client client(TrustingClient());
  EXPECT_THAT(Echo(client, ref->ToString()),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("a server that requires TLS does this: call it with its "
                                 "korbs:// reference")));
}

TEST_F(TlsEndToEnd, TlsClientNeverFallsBackToPlaintext) {
  // A korbs:// reference to a plaintext server fails the handshake; the
  // call never goes out in plaintext.
  absl::StatusOr<Server> server = StartServer(Mode::kPlaintext);
  ASSERT_THAT(server, IsOk());
  EXPECT_THAT(server->open_ref, StartsWith("korb://"));
  absl::StatusOr<Ref> ref = Ref::Parse(server->open_ref);
  ASSERT_THAT(ref, IsOk());
  ref->set_tls(true);
  Client client(TrustingClient());
  absl::StatusOr<korbtest::EchoReply> reply = Echo(client, ref->ToString());
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("Tls handshake failed")));
  EXPECT_THAT(reply.status().message(), HasSubstr("wrong version number"));
  // The plaintext reference still works through the same Client.
  EXPECT_THAT(Echo(client, server->open_ref), IsOk());
}

TEST_F(TlsEndToEnd, AccessRulesFollowTheMutualTlsIdentity) {
  // Adapter "guarded": alice may call everything (and raise priority),
  // auditor only readonly Ping, bob nothing; adapter "open" lets bob in.
  absl::StatusOr<Server> server = StartServer(Mode::kMutualTls);
  ASSERT_THAT(server, IsOk());
  Client alice(TrustingClient("alice"));
  Client auditor(TrustingClient("auditor"));
  Client bob(TrustingClient("bob"));

  EXPECT_THAT(Echo(alice, server->guarded_ref), IsOk());
  EXPECT_THAT(Echo(alice, server->guarded_ref, /*priority=*/50), IsOk());
  EXPECT_THAT(Ping(alice, server->guarded_ref), IsOk());

  EXPECT_THAT(Ping(auditor, server->guarded_ref), IsOk());
  absl::StatusOr<korbtest::EchoReply> denied = Echo(auditor, server->guarded_ref);
  EXPECT_THAT(denied, StatusIs(absl::StatusCode::kPermissionDenied,
                               HasSubstr("cn:auditor may call only readonly operations")));
  EXPECT_EQ(ErrorKindOf(denied.status()), ErrorKind::kPermissionDenied);

  denied = Echo(bob, server->guarded_ref);
  EXPECT_THAT(denied, StatusIs(absl::StatusCode::kPermissionDenied,
                               HasSubstr("caller cn:bob may not call /korbtest.Echo/Echo of "
                                         "adapter 'guarded'")));
  EXPECT_EQ(ErrorKindOf(denied.status()), ErrorKind::kPermissionDenied);
  EXPECT_THAT(Ping(bob, server->guarded_ref), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(Echo(bob, server->open_ref), IsOk());
}

TEST_F(TlsEndToEnd, ServerRefusesToStartWithMissingCertificateFiles) {
  // A missing PEM file is a clear start-up error, not failing handshakes.
  const Certificates& certs = Certificates::Get();
  absl::StatusOr<Subprocess> process =
      Subprocess::Start({KORB_TLS_SERVER, "--listen", "127.0.0.1:0", "--cert",
                         certs.Path("missing.pem"), "--key", certs.Path("server.key")});
  ASSERT_THAT(process, IsOk());
  absl::StatusOr<int> exit_code = process->Wait(kStartTimeout);
  ASSERT_THAT(exit_code, IsOk());
  EXPECT_NE(*exit_code, 0);
}

}  // namespace
}  // namespace korb
