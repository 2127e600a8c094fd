// korb::Ref: the value type of an object reference, and its string forms
//   korb://host1:port1[,host2:port2...]/<adapter>/<object-id>?type=<package.Service>
//   korbname://host1:port1[,host2:port2...]/<name>?type=<package.Service>
// and, for servers that listen with TLS, the same with the schemes korbs://
// and korbnames:// ("s" as in https).
//
// The first is a direct reference: where the object is. The second is an
// indirect reference: the object bound to <name> ("bank/accounts/main") in
// the naming service at the given endpoints (idl/korb/naming.proto); the
// client runtime resolves it on first use (docs/naming.md). Names follow the
// naming service's rules (ValidateName) and are printed verbatim: their
// characters never need escaping, so each name has one spelling. An indirect
// Ref has a name and no adapter or id; everything that takes a Ref (stubs,
// MakeStub, korb.ObjectRef on the wire through its `name` field) takes
// either form.
//
// Adapter names and object ids are arbitrary byte strings; in the string form
// every byte outside RFC 3986's unreserved set (A-Z a-z 0-9 - . _ ~) is
// percent-encoded, so ids with '/', spaces or non-ASCII bytes round-trip
// losslessly: Parse(r.ToString()) == r for every valid r. Parse accepts
// upper- or lower-case hex escapes; ToString always prints upper case.
// IPv6 hosts are bracketed in the string form ("[::1]:7000") and stored
// without brackets. `type` may be empty (the "?type=" part is then omitted).
//
// TLS is a property of each endpoint (HostPort::tls, korb.Endpoint.tls on
// the wire), so that it travels with the endpoints wherever they are copied
// (naming service, resolutions, forwards) and keys the client's channels: a
// TLS endpoint is never called in plaintext, nor a plaintext one with TLS.
// The endpoints of one reference agree (Validate()); the string form states
// it once, by its scheme.
//
// Why `Ref` and not `ObjectRef`: the IDL's message `korb.ObjectRef` (ref.proto)
// is generated as the C++ class korb::ObjectRef, which is what operations take
// and return. korb::Ref is its validated, hashable value form with the string
// syntax; ToProto()/FromProto() convert, and stubs accept either.
//
// Thread-safety: thread-compatible value type (const methods may be called
// concurrently; mutation needs external synchronization).
//
// Usage:
//   absl::StatusOr<korb::Ref> ref =
//       korb::Ref::Parse("korb://127.0.0.1:7000/bank/acct%2F1?type=bank.Account");
//   if (!ref.ok()) return ref.status();
//   std::cout << ref->id() << "\n";            // acct/1
//   korb::Ref same = *korb::Ref::FromProto(ref->ToProto());
//   absl::StatusOr<korb::Ref> by_name =
//       korb::Ref::Parse("korbname://127.0.0.1:2809/bank?type=bank.Bank");
//   if (by_name.ok() && by_name->is_indirect()) std::cout << by_name->name();  // bank
//   korb::Ref secure = *korb::Ref::Parse("korbs://127.0.0.1:7443/bank/main");
//   if (secure.tls()) ...;   // every endpoint speaks TLS only
#ifndef KORB_COMMON_REF_H_
#define KORB_COMMON_REF_H_

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "korb/ref.pb.h"

namespace korb {

// A host and TCP port. Value type.
struct HostPort {
  std::string host;  // name, IPv4, or IPv6 without brackets; not empty
  uint16_t port = 0;  // 1..65535
  // The server there speaks only TLS (a korbs:// or korbnames:// reference).
  bool tls = false;

  // "host:port", or "[v6]:port" for IPv6 hosts; usable as a gRPC target.
  // Does not show `tls` (the reference's scheme does).
  std::string ToString() const;
  // Parses "host:port" / "[v6]:port" (tls false).
  static absl::StatusOr<HostPort> Parse(absl::string_view s);

  friend bool operator==(const HostPort&, const HostPort&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const HostPort& hp) {
    return H::combine(std::move(h), hp.host, hp.port, hp.tls);
  }
};

class Ref {
 public:
  // An empty (invalid) reference; see IsValid().
  Ref() = default;
  // Builds a reference; Validate() tells whether it is well formed.
  Ref(std::string type, std::vector<HostPort> endpoints, std::string adapter,
      std::string id);

  // An indirect reference: the object bound to `name` in the naming service
  // at `naming_endpoints`. Validate() tells whether it is well formed.
  static Ref Indirect(std::string type, std::vector<HostPort> naming_endpoints, std::string name);

  // Parses either string form. Errors are INVALID_ARGUMENT with a message that
  // names the offending part; never crashes on any input.
  static absl::StatusOr<Ref> Parse(absl::string_view uri);
  // Converts from the wire message, validating it.
  static absl::StatusOr<Ref> FromProto(const korb::ObjectRef& proto);

  // The canonical string form. Requires IsValid() for a parseable result.
  std::string ToString() const;
  korb::ObjectRef ToProto() const;

  // OK if the reference has at least one endpoint (port 1..65535; host a
  // non-empty name or IPv4 address of unreserved characters, or an IPv6
  // address), a type that is empty or a dotted identifier ("bank.Account"),
  // and either (direct) a non-empty adapter and id, or (indirect) a valid
  // name and an empty adapter and id, and endpoints that all agree on TLS;
  // INVALID_ARGUMENT otherwise. Exactly the references whose string form
  // Parse() accepts.
  absl::Status Validate() const;
  bool IsValid() const { return Validate().ok(); }

  const std::string& type() const { return type_; }
  const std::vector<HostPort>& endpoints() const { return endpoints_; }
  const std::string& adapter() const { return adapter_; }
  const std::string& id() const { return id_; }
  // The name an indirect reference stands for; empty for a direct one.
  const std::string& name() const { return name_; }
  bool is_indirect() const { return !name_.empty(); }
  // Whether the endpoints speak TLS (korbs://, korbnames://): the first
  // endpoint's HostPort::tls, which the others share in a valid reference.
  bool tls() const { return !endpoints_.empty() && endpoints_.front().tls; }

  void set_type(std::string type) { type_ = std::move(type); }
  void set_endpoints(std::vector<HostPort> e) { endpoints_ = std::move(e); }
  // Marks every endpoint as speaking TLS, or plaintext.
  void set_tls(bool tls) {
    for (HostPort& endpoint : endpoints_) endpoint.tls = tls;
  }

  friend bool operator==(const Ref&, const Ref&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Ref& r) {
    return H::combine(std::move(h), r.type_, r.endpoints_, r.adapter_, r.id_, r.name_);
  }
  friend std::ostream& operator<<(std::ostream& os, const Ref& r) {
    return os << r.ToString();
  }

 private:
  std::string type_;
  std::vector<HostPort> endpoints_;
  std::string adapter_;
  std::string id_;
  std::string name_;  // indirect references only
};

// Limits of names in the naming service (idl/korb/naming.proto).
inline constexpr size_t kMaxNameBytes = 256;
inline constexpr size_t kMaxNameComponentBytes = 64;

// OK if `name` is a valid naming-service name: 1 to kMaxNameBytes bytes of
// components separated by '/', each 1 to kMaxNameComponentBytes bytes of
// RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) and neither "." nor
// "..". INVALID_ARGUMENT naming the offending part otherwise.
absl::Status ValidateName(absl::string_view name);

// Percent-encodes every byte outside RFC 3986's unreserved set.
std::string PercentEncode(absl::string_view raw);
// Appends PercentEncode(raw) to *out (one growth at most; for hot paths).
void AppendPercentEncoded(absl::string_view raw, std::string* out);
// Decodes %XX escapes (either hex case); INVALID_ARGUMENT on a truncated or
// non-hex escape or on a raw byte that is not an RFC 3986 path character:
// besides unreserved characters only the sub-delims !$&'()*+,;= and ':' '@'
// may appear unescaped (they decode to themselves), so controls, space,
// non-ASCII bytes, '%' without two hex digits, and / ? # [ ] " < > \ ^ ` { | }
// are rejected.
absl::StatusOr<std::string> PercentDecode(absl::string_view encoded);

}  // namespace korb

#endif  // KORB_COMMON_REF_H_
