// korb::PeerIdentity: who is calling, as the transport knows it — the
// caller's address and, when it connected with mTLS, the identity its
// verified client certificate states (subject and subject alternative
// names). Servants read it through CallContext::peer_identity(); access
// control (adapter/access_control.h) matches its principals.
//
// Only verified facts are here: the certificate fields are set only when the
// server asked for client certificates (ServerTlsOptions::client_ca_file) and
// the certificate chained to one of those CAs; a caller without one has
// empty fields. Nothing here comes from request metadata.
//
// Thread-safety: thread-compatible value type.
//
// Usage (in a servant):
//   const korb::PeerIdentity& peer = ctx.peer_identity();
//   if (!peer.verified) return absl::PermissionDeniedError("client certificate required");
//   std::cout << peer.common_name << " from " << peer.address << "\n";
#ifndef KORB_SKELETONS_PEER_IDENTITY_H_
#define KORB_SKELETONS_PEER_IDENTITY_H_

#include <string>
#include <vector>

namespace korb {

struct PeerIdentity {
  // The caller's address as the transport reports it ("ipv4:127.0.0.1:5555";
  // another transport's own form, e.g. "in-memory:1").
  std::string address;
  // The call came over a TLS connection.
  bool tls = false;
  // A client certificate was presented and verified (mTLS); the fields below
  // are empty otherwise.
  bool verified = false;
  // The certificate's subject as gRPC prints it (RFC 2253, most significant
  // last: "O=Korb,CN=alice") and its
  // common name ("alice").
  std::string subject;
  std::string common_name;
  // Its subject alternative names by kind: DNS names, URIs (e.g. SPIFFE ids
  // "spiffe://korb/alice"), e-mail addresses, IP addresses.
  std::vector<std::string> dns_names;
  std::vector<std::string> uris;
  std::vector<std::string> emails;
  std::vector<std::string> ip_addresses;

  // The principal names access control matches (AccessPolicy): "cn:<common
  // name>", "dns:<name>", "uri:<uri>", "email:<address>", "ip:<address>"
  // for each field set; empty without a verified certificate.
  std::vector<std::string> Principals() const;

  friend bool operator==(const PeerIdentity&, const PeerIdentity&) = default;
};

}  // namespace korb

#endif  // KORB_SKELETONS_PEER_IDENTITY_H_
