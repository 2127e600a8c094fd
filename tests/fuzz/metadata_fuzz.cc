// Fuzzes the parsers of Korb's request and reply metadata (common/wire.h,
// skeletons/method_table.h), which read what any gRPC peer sends:
//   korb-object      DecodeObjectKey: a key it accepts has non-empty parts and
//                    re-encodes (EncodeObjectKey) to a key that decodes to the
//                    same parts;
//   :path            ServiceOfMethodPath: a non-empty result is a part of the
//                    path between its first two slashes;
//   korb-load        ParseLoad: only finite, non-negative numbers;
//   korb-request-id  IsValidRequestId: exactly 1..64 printable ASCII bytes;
//   korb-error       ParseErrorKind: a known name maps back to itself.
// Nothing may crash on any input.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/wire.h"
#include "skeletons/method_table.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool IsPrintableAscii(absl::string_view s) {
  for (char c : s) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);

  std::string adapter = "untouched-adapter";
  std::string id = "untouched-id";
  if (korb::DecodeObjectKey(input, &adapter, &id)) {
    FUZZ_CHECK(!adapter.empty());
    FUZZ_CHECK(!id.empty());
    std::string again_adapter, again_id;
    FUZZ_CHECK(korb::DecodeObjectKey(korb::EncodeObjectKey(adapter, id), &again_adapter,
                                     &again_id));
    FUZZ_CHECK(again_adapter == adapter);
    FUZZ_CHECK(again_id == id);
  } else {
    FUZZ_CHECK(adapter == "untouched-adapter");
    FUZZ_CHECK(id == "untouched-id");
  }

  absl::string_view service = korb::ServiceOfMethodPath(input);
  if (!service.empty()) {
    FUZZ_CHECK(input[0] == '/');
    FUZZ_CHECK(service.data() == input.data() + 1);
    FUZZ_CHECK(service.find('/') == absl::string_view::npos);
    FUZZ_CHECK(input.size() > service.size() + 2);
    FUZZ_CHECK(input[service.size() + 1] == '/');
  }

  std::optional<double> load = korb::ParseLoad(input);
  if (load.has_value()) {
    FUZZ_CHECK(std::isfinite(*load));
    FUZZ_CHECK(*load >= 0);
  }

  FUZZ_CHECK(korb::IsValidRequestId(input) ==
             (!input.empty() && input.size() <= korb::kMaxRequestIdBytes &&
              IsPrintableAscii(input)));

  korb::ErrorKind kind = korb::ParseErrorKind(input);
  if (kind != korb::ErrorKind::kNone) FUZZ_CHECK(korb::ErrorKindName(kind) == input);
  return 0;
}
