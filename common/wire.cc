#include "common/wire.h"

#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "common/ref.h"

namespace korb {

absl::string_view ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNone:
      return "";
    case ErrorKind::kObjectNotExist:
      return "object-not-exist";
    case ErrorKind::kNoSuchMethod:
      return "no-such-method";
    case ErrorKind::kBadRequest:
      return "bad-request";
    case ErrorKind::kTransient:
      return "transient";
    case ErrorKind::kForward:
      return "forward";
    case ErrorKind::kNameNotBound:
      return "name-not-bound";
    case ErrorKind::kPermissionDenied:
      return "permission-denied";
  }
  return "";  // An out-of-range enum value: not a Korb-refined error.
}

ErrorKind ParseErrorKind(absl::string_view name) {
  for (ErrorKind kind : {ErrorKind::kObjectNotExist, ErrorKind::kNoSuchMethod,
                         ErrorKind::kBadRequest, ErrorKind::kTransient, ErrorKind::kForward,
                         ErrorKind::kNameNotBound, ErrorKind::kPermissionDenied}) {
    if (name == ErrorKindName(kind)) return kind;
  }
  return ErrorKind::kNone;
}

ErrorKind ErrorKindOf(const absl::Status& status) {
  if (status.ok()) return ErrorKind::kNone;
  absl::optional<absl::Cord> payload = status.GetPayload(kErrorPayloadUrl);
  if (!payload.has_value()) return ErrorKind::kNone;
  if (absl::optional<absl::string_view> flat = payload->TryFlat(); flat.has_value()) {
    return ParseErrorKind(*flat);
  }
  return ParseErrorKind(std::string(*payload));
}

absl::Status WithErrorKind(absl::Status status, ErrorKind kind) {
  if (status.ok()) return status;
  if (kind == ErrorKind::kNone) {
    status.ErasePayload(kErrorPayloadUrl);
  } else {
    status.SetPayload(kErrorPayloadUrl, absl::Cord(ErrorKindName(kind)));
  }
  return status;
}

std::string EncodeObjectKey(absl::string_view adapter, absl::string_view id) {
  // Exact for the common case of ids without escapes: a single allocation.
  std::string key;
  key.reserve(adapter.size() + 1 + id.size());
  AppendPercentEncoded(adapter, &key);
  key.push_back('/');
  AppendPercentEncoded(id, &key);
  return key;
}

bool DecodeObjectKey(absl::string_view key, std::string* adapter, std::string* id) {
  // The first '/' separates the parts; a second one is an unencoded '/' in
  // the id, which PercentDecode rejects.
  const size_t slash = key.find('/');
  if (slash == absl::string_view::npos || slash == 0 || slash + 1 == key.size()) return false;
  absl::StatusOr<std::string> decoded_adapter = PercentDecode(key.substr(0, slash));
  if (!decoded_adapter.ok()) return false;
  absl::StatusOr<std::string> decoded_id = PercentDecode(key.substr(slash + 1));
  if (!decoded_id.ok()) return false;
  *adapter = *std::move(decoded_adapter);
  *id = *std::move(decoded_id);
  return true;
}

std::optional<double> ParseLoad(absl::string_view value) {
  // Lenient about the number's spelling ("3", "2.5", "1e+06"), strict about
  // its value: finite and non-negative.
  double load = 0;
  if (value.empty() || value.size() > 32 || !absl::SimpleAtod(value, &load) ||
      !std::isfinite(load) || load < 0) {
    return std::nullopt;
  }
  return load;
}

bool IsValidRequestId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdBytes) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

std::string Echo(absl::string_view client_input) {
  std::string out;
  size_t used = 0;
  for (; used < client_input.size(); ++used) {
    std::string escaped = absl::CHexEscape(client_input.substr(used, 1));
    if (out.size() + escaped.size() > kMaxEchoedBytes) break;
    out += escaped;
  }
  if (used < client_input.size()) {
    absl::StrAppend(&out, "...(", client_input.size(), " bytes)");
  }
  return out;
}

}  // namespace korb
