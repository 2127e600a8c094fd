#include "common/ref.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"

namespace korb {
namespace {

constexpr absl::string_view kScheme = "korb://";
constexpr absl::string_view kNameScheme = "korbname://";
constexpr absl::string_view kTlsScheme = "korbs://";
constexpr absl::string_view kTlsNameScheme = "korbnames://";
// Longest stretch of caller input quoted in an error message; the rest is cut
// so that hostile input cannot make messages (and logs) arbitrarily large.
constexpr size_t kMaxQuoted = 256;

// `s` escaped (C-style, non-printable bytes as \xNN) and double-quoted.
std::string Quote(absl::string_view s) {
  if (s.size() <= kMaxQuoted) return absl::StrCat("\"", absl::CHexEscape(s), "\"");
  return absl::StrCat("\"", absl::CHexEscape(s.substr(0, kMaxQuoted)), "\"...");
}

// RFC 3986 unreserved: A-Z a-z 0-9 - . _ ~
bool IsUnreserved(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

// RFC 3986 sub-delims plus ':' and '@': the rest of `pchar`, which a path
// segment may carry unescaped with its literal meaning.
bool IsRawPathChar(char c) { return absl::StrContains("!$&'()*+,;=:@", c); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// A protobuf full name: identifiers ([A-Za-z_][A-Za-z0-9_]*) joined by '.'.
bool IsDottedIdentifier(absl::string_view s) {
  if (s.empty()) return false;
  for (absl::string_view part : absl::StrSplit(s, '.')) {
    if (part.empty() || absl::ascii_isdigit(static_cast<unsigned char>(part[0]))) return false;
    for (char c : part) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    }
  }
  return true;
}

// Why `host` cannot be printed and parsed back; empty if it is fine. IPv6
// addresses (anything with ':') must be valid for inet_pton; other hosts are
// names or IPv4 addresses of unreserved characters (no percent-encoding).
std::string HostProblem(absl::string_view host) {
  if (host.empty()) return "empty host";
  if (absl::StrContains(host, ':')) {
    in6_addr addr;
    if (host.size() > INET6_ADDRSTRLEN ||
        inet_pton(AF_INET6, std::string(host).c_str(), &addr) != 1) {
      return absl::StrCat("host ", Quote(host), " is not a valid IPv6 address");
    }
    return "";
  }
  for (char c : host) {
    if (!IsUnreserved(c)) {
      return absl::StrCat("host ", Quote(host), " contains ", Quote(absl::string_view(&c, 1)),
                          " (hosts are names or addresses of A-Z a-z 0-9 - . _ ~)");
    }
  }
  return "";
}

// Parses a decimal port 1..65535 written without sign or leading zeros, so
// that every port has one spelling.
absl::StatusOr<uint16_t> ParsePort(absl::string_view s) {
  if (s.empty()) return absl::InvalidArgumentError("missing port");
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(absl::StrCat("port ", Quote(s), " is not a number"));
    }
  }
  if (s.size() > 1 && s[0] == '0') {
    return absl::InvalidArgumentError(absl::StrCat("port ", Quote(s), " has a leading zero"));
  }
  uint32_t port = 0;
  if (s.size() <= 5) {
    for (char c : s) port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (s.size() > 5 || port == 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port ", Quote(s), " is out of range 1..65535"));
  }
  return static_cast<uint16_t>(port);
}


// The type a reference's query states: only "type=<dotted.identifier>", at
// most once. `query` is what follows '?'.
absl::StatusOr<std::string> ParseTypeQuery(absl::string_view query) {
  if (query.empty()) return absl::InvalidArgumentError("empty query (omit '?' when there is no type)");
  absl::string_view type;
  bool seen_type = false;
  for (absl::string_view param : absl::StrSplit(query, '&')) {
    if (param.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("empty query parameter in ", Quote(query)));
    }
    const size_t eq = param.find('=');
    absl::string_view key = param.substr(0, eq);
    if (key != "type") {
      return absl::InvalidArgumentError(absl::StrCat("unknown query parameter ", Quote(key)));
    }
    if (seen_type) return absl::InvalidArgumentError("duplicate query parameter \"type\"");
    seen_type = true;
    if (eq == absl::string_view::npos || eq + 1 == param.size()) {
      return absl::InvalidArgumentError("empty type (omit the query when there is no type)");
    }
    type = param.substr(eq + 1);
    if (!IsDottedIdentifier(type)) {
      return absl::InvalidArgumentError(
          absl::StrCat("type ", Quote(type), " is not a dotted identifier like package.Service"));
    }
  }
  return std::string(type);
}

}  // namespace

absl::Status ValidateName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("empty name");
  // Names come from clients and appear in error messages: quote a bounded,
  // escaped prefix of them, and no component separately.
  constexpr size_t kShown = 80;
  const std::string quoted =
      absl::StrCat("name \"", absl::CHexEscape(name.substr(0, kShown)),
                   name.size() > kShown ? "\"..." : "\"");
  if (name.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(absl::StrCat(quoted, " is ", name.size(),
                                                   " bytes long; at most ", kMaxNameBytes,
                                                   " are allowed"));
  }
  int index = 0;
  for (absl::string_view component : absl::StrSplit(name, '/')) {
    ++index;
    if (component.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          quoted, ": component ", index, " is empty (leading, trailing or doubled '/')"));
    }
    if (component.size() > kMaxNameComponentBytes) {
      return absl::InvalidArgumentError(absl::StrCat(quoted, ": component ", index, " is ",
                                                     component.size(), " bytes long; at most ",
                                                     kMaxNameComponentBytes, " are allowed"));
    }
    if (component == "." || component == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat(quoted, ": component ", index, " \"", component, "\" is not allowed"));
    }
    for (char c : component) {
      if (!IsUnreserved(c)) {
        return absl::InvalidArgumentError(
            absl::StrCat(quoted, ": component ", index, " contains \"",
                         absl::CHexEscape(absl::string_view(&c, 1)), "\" (",
                         PercentEncode(absl::string_view(&c, 1)),
                         "); components are made of A-Z a-z 0-9 - . _ ~, separated by '/'"));
      }
    }
  }
  return absl::OkStatus();
}

std::string HostPort::ToString() const {
  if (absl::StrContains(host, ':')) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<HostPort> HostPort::Parse(absl::string_view s) {
  auto error = [s](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("endpoint ", Quote(s), ": ", what));
  };
  absl::string_view host, port;
  if (absl::StartsWith(s, "[")) {
    size_t close = s.find(']');
    if (close == absl::string_view::npos) return error("unbalanced '[' (no closing bracket)");
    host = s.substr(1, close - 1);
    absl::string_view rest = s.substr(close + 1);
    if (rest.empty()) return error("missing port");
    if (rest[0] != ':') return error("expected ':' and a port after ']'");
    port = rest.substr(1);
    if (host.empty()) return error("empty host");
    if (!absl::StrContains(host, ':')) return error("brackets are only for IPv6 hosts");
  } else {
    if (absl::StrContains(s, '[') || absl::StrContains(s, ']')) {
      return error("unbalanced bracket (IPv6 hosts are written \"[addr]:port\")");
    }
    size_t colon = s.rfind(':');
    if (colon == absl::string_view::npos) return error("missing port");
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (absl::StrContains(host, ':')) {
      return error("IPv6 host must be bracketed (\"[addr]:port\")");
    }
  }
  if (std::string problem = HostProblem(host); !problem.empty()) return error(problem);
  absl::StatusOr<uint16_t> number = ParsePort(port);
  if (!number.ok()) return error(number.status().message());
  return HostPort{std::string(host), *number};
}

Ref::Ref(std::string type, std::vector<HostPort> endpoints, std::string adapter, std::string id)
    : type_(std::move(type)),
      endpoints_(std::move(endpoints)),
      adapter_(std::move(adapter)),
      id_(std::move(id)) {}

absl::StatusOr<Ref> Ref::Parse(absl::string_view uri) {
  // RFC 3986 scheme names are case-insensitive. None is a prefix of another.
  absl::string_view scheme;
  bool indirect = false;
  bool tls = false;
  for (auto [candidate, is_name, is_tls] :
       {std::tuple{kScheme, false, false}, std::tuple{kNameScheme, true, false},
        std::tuple{kTlsScheme, false, true}, std::tuple{kTlsNameScheme, true, true}}) {
    if (absl::StartsWithIgnoreCase(uri, candidate)) {
      scheme = candidate;
      indirect = is_name;
      tls = is_tls;
    }
  }
  auto error = [uri, indirect](auto&&... what) {
    return absl::InvalidArgumentError(absl::StrCat("invalid korb ", indirect ? "name " : "",
                                                   "reference ", Quote(uri), ": ", what...));
  };
  if (scheme.empty()) {
    return error(
        "scheme must be \"korb://\", \"korbname://\", or with TLS \"korbs://\", "
        "\"korbnames://\"");
  }
  absl::string_view rest = uri.substr(scheme.size());
  const std::string expected =
      absl::StrCat(scheme, indirect ? "host:port/<name>" : "host:port/<adapter>/<object-id>");

  if (size_t hash = rest.find('#'); hash != absl::string_view::npos) {
    return error("fragment ", Quote(rest.substr(hash)), " is not allowed",
                 indirect ? "" : " (write '#' in an adapter or id as %23)");
  }
  absl::string_view query;
  const size_t question = rest.find('?');
  const bool has_query = question != absl::string_view::npos;
  if (has_query) {
    query = rest.substr(question + 1);
    rest = rest.substr(0, question);
  }

  // Authority: endpoints separated by ','; ends at the first '/'.
  const size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  if (authority.empty()) return error("missing endpoints (expected ", expected, ")");
  std::vector<HostPort> endpoints;
  for (absl::string_view endpoint : absl::StrSplit(authority, ',')) {
    if (endpoint.empty()) return error("empty endpoint in ", Quote(authority));
    absl::StatusOr<HostPort> parsed = HostPort::Parse(endpoint);
    if (!parsed.ok()) return error(parsed.status().message());
    parsed->tls = tls;
    endpoints.push_back(*std::move(parsed));
  }

  absl::StatusOr<std::string> type = has_query ? ParseTypeQuery(query) : std::string();
  if (!type.ok()) return error(type.status().message());

  if (indirect) {
    // Path: "/<name>", the name verbatim: its characters need no escaping,
    // so one name has one spelling.
    if (slash == absl::string_view::npos) {
      return error("missing name (expected /<name> after the endpoints)");
    }
    absl::string_view name = rest.substr(slash + 1);
    if (absl::Status valid = ValidateName(name); !valid.ok()) return error(valid.message());
    return Ref::Indirect(*std::move(type), std::move(endpoints), std::string(name));
  }

  // Path: exactly "/<adapter>/<id>".
  if (slash == absl::string_view::npos) {
    return error("missing adapter (expected /<adapter>/<object-id> after the endpoints)");
  }
  absl::string_view path = rest.substr(slash + 1);
  const size_t separator = path.find('/');
  absl::string_view encoded_adapter = path.substr(0, separator);
  if (encoded_adapter.empty()) return error("empty adapter");
  if (separator == absl::string_view::npos) {
    return error("missing object id (expected /<adapter>/<object-id>)");
  }
  absl::string_view encoded_id = path.substr(separator + 1);
  if (encoded_id.empty()) return error("empty object id");
  if (absl::StrContains(encoded_id, '/')) {
    return error("extra path segment in object id ", Quote(encoded_id),
                 " (write '/' in an id as %2F)");
  }
  absl::StatusOr<std::string> adapter = PercentDecode(encoded_adapter);
  if (!adapter.ok()) return error("adapter: ", adapter.status().message());
  absl::StatusOr<std::string> id = PercentDecode(encoded_id);
  if (!id.ok()) return error("object id: ", id.status().message());
  return Ref(*std::move(type), std::move(endpoints), *std::move(adapter), *std::move(id));
}

Ref Ref::Indirect(std::string type, std::vector<HostPort> naming_endpoints, std::string name) {
  Ref ref(std::move(type), std::move(naming_endpoints), "", "");
  ref.name_ = std::move(name);
  return ref;
}

absl::StatusOr<Ref> Ref::FromProto(const korb::ObjectRef& proto) {
  std::vector<HostPort> endpoints;
  endpoints.reserve(proto.endpoints_size());
  for (int i = 0; i < proto.endpoints_size(); ++i) {
    const korb::Endpoint& endpoint = proto.endpoints(i);
    if (endpoint.port() == 0 || endpoint.port() > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("invalid reference: endpoint ", i, " port ",
                                                     endpoint.port(), " is out of range 1..65535"));
    }
    endpoints.push_back(
        HostPort{endpoint.host(), static_cast<uint16_t>(endpoint.port()), endpoint.tls()});
  }
  Ref ref(proto.type(), std::move(endpoints), proto.adapter(), proto.id());
  ref.name_ = proto.name();
  RETURN_IF_ERROR(ref.Validate());
  return ref;
}

std::string Ref::ToString() const {
  std::string out(is_indirect() ? (tls() ? kTlsNameScheme : kNameScheme)
                                 : (tls() ? kTlsScheme : kScheme));
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    if (i > 0) out.push_back(',');
    absl::StrAppend(&out, endpoints_[i].ToString());
  }
  out.push_back('/');
  if (is_indirect()) {
    out.append(name_);
  } else {
    AppendPercentEncoded(adapter_, &out);
    out.push_back('/');
    AppendPercentEncoded(id_, &out);
  }
  if (!type_.empty()) absl::StrAppend(&out, "?type=", type_);
  return out;
}

korb::ObjectRef Ref::ToProto() const {
  korb::ObjectRef proto;
  proto.set_type(type_);
  for (const HostPort& hp : endpoints_) {
    korb::Endpoint* endpoint = proto.add_endpoints();
    endpoint->set_host(hp.host);
    endpoint->set_port(hp.port);
    if (hp.tls) endpoint->set_tls(true);
  }
  proto.set_adapter(adapter_);
  proto.set_id(id_);
  proto.set_name(name_);
  return proto;
}

absl::Status Ref::Validate() const {
  auto error = [](auto&&... what) {
    return absl::InvalidArgumentError(absl::StrCat("invalid reference: ", what...));
  };
  if (endpoints_.empty()) return error("no endpoints");
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    if (std::string problem = HostProblem(endpoints_[i].host); !problem.empty()) {
      return error("endpoint ", i, ": ", problem);
    }
    if (endpoints_[i].port == 0) return error("endpoint ", i, ": port 0 is out of range 1..65535");
    if (endpoints_[i].tls != endpoints_.front().tls) {
      // The string form states TLS once, by scheme; a mixed reference has no
      // string form (and would make a caller's security depend on which
      // replica it picked).
      auto kind = [](const HostPort& e) { return e.tls ? "TLS" : "plaintext"; };
      return error("endpoint ", i, " (", endpoints_[i].ToString(), ") is ", kind(endpoints_[i]),
                   " and endpoint 0 (", endpoints_.front().ToString(), ") is ",
                   kind(endpoints_.front()), ": the endpoints of a reference must agree on TLS");
    }
  }
  if (is_indirect()) {
    if (!adapter_.empty() || !id_.empty()) {
      return error("an indirect reference (name ", Quote(name_),
                   ") has no adapter or object id: its name stands for them");
    }
    if (absl::Status valid = ValidateName(name_); !valid.ok()) return error(valid.message());
  } else {
    if (adapter_.empty()) return error("empty adapter");
    if (id_.empty()) return error("empty object id");
  }
  if (!type_.empty() && !IsDottedIdentifier(type_)) {
    return error("type ", Quote(type_), " is not a dotted identifier like package.Service");
  }
  return absl::OkStatus();
}

std::string PercentEncode(absl::string_view raw) {
  std::string out;
  AppendPercentEncoded(raw, &out);
  return out;
}

void AppendPercentEncoded(absl::string_view raw, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  size_t escaped = 0;
  for (char c : raw) escaped += IsUnreserved(c) ? 0 : 1;
  if (escaped == 0) {
    out->append(raw.data(), raw.size());
    return;
  }
  size_t pos = out->size();
  out->resize(pos + raw.size() + 2 * escaped);
  char* p = out->data() + pos;
  for (char c : raw) {
    if (IsUnreserved(c)) {
      *p++ = c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      *p++ = '%';
      *p++ = kHex[byte >> 4];
      *p++ = kHex[byte & 0xF];
    }
  }
}

absl::StatusOr<std::string> PercentDecode(absl::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (c == '%') {
      if (encoded.size() - i < 3) {
        return absl::InvalidArgumentError(
            absl::StrCat("truncated percent escape ", Quote(encoded.substr(i)), " at offset ", i));
      }
      const int hi = HexValue(encoded[i + 1]);
      const int lo = HexValue(encoded[i + 2]);
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid percent escape ", Quote(encoded.substr(i, 3)), " at offset ", i));
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (IsUnreserved(c) || IsRawPathChar(c)) {
      out.push_back(c);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("byte ", Quote(absl::string_view(&c, 1)),
                                                     " at offset ", i, " must be percent-encoded"));
    }
  }
  return out;
}

}  // namespace korb
