#include "common/tls_files.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace korb {

absl::Status CheckPemFile(absl::string_view option, const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(option, " is empty"));
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::InvalidArgumentError(
        absl::StrCat(option, ": cannot read '", path, "': ", std::strerror(errno)));
  }
  // A PEM block starts near the top: keys and certificates may be preceded
  // by a few lines of text ("Bag Attributes", comments), never by 64 KiB.
  constexpr std::streamsize kHeadBytes = 64 << 10;
  std::string text(static_cast<size_t>(kHeadBytes), '\0');
  file.read(text.data(), kHeadBytes);
  text.resize(static_cast<size_t>(file.gcount()));
  if (!absl::StrContains(text, "-----BEGIN ")) {
    return absl::InvalidArgumentError(
        absl::StrCat(option, ": '", path, "' is not a PEM file (no \"-----BEGIN\" line)"));
  }
  return absl::OkStatus();
}

unsigned int RefreshSeconds(absl::Duration interval) {
  const int64_t seconds = absl::ToInt64Seconds(interval);
  return static_cast<unsigned int>(std::clamp<int64_t>(seconds, 1, 24 * 3600));
}

}  // namespace korb
