// Fuzzes the object reference syntax (common/ref.h), as a hostile peer or a
// pasted command line would feed it: the string parser and printer, the
// wire message form, percent-decoding and host:port parsing. Properties:
//   - nothing crashes, and a rejected input is INVALID_ARGUMENT;
//   - an accepted reference is valid, prints to a form that parses back to
//     the same reference, and prints the same way again (canonical form);
//   - its wire form (korb.ObjectRef) converts back to the same reference.
// The first input byte picks the parser: string form, or the serialized
// korb.ObjectRef message (what a factory operation returns).
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/ref.h"
#include "korb/ref.pb.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

void CheckAccepted(const korb::Ref& ref) {
  FUZZ_CHECK(ref.IsValid());
  std::string printed = ref.ToString();
  absl::StatusOr<korb::Ref> again = korb::Ref::Parse(printed);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == ref);
  FUZZ_CHECK(again->ToString() == printed);
  absl::StatusOr<korb::Ref> from_wire = korb::Ref::FromProto(ref.ToProto());
  FUZZ_CHECK(from_wire.ok());
  FUZZ_CHECK(*from_wire == ref);
}

void FuzzString(absl::string_view input) {
  absl::StatusOr<korb::Ref> ref = korb::Ref::Parse(input);
  if (ref.ok()) {
    CheckAccepted(*ref);
  } else {
    FUZZ_CHECK(ref.status().code() == absl::StatusCode::kInvalidArgument);
  }

  absl::StatusOr<std::string> decoded = korb::PercentDecode(input);
  if (decoded.ok()) {
    absl::StatusOr<std::string> round_trip = korb::PercentDecode(korb::PercentEncode(*decoded));
    FUZZ_CHECK(round_trip.ok());
    FUZZ_CHECK(*round_trip == *decoded);
  }

  absl::StatusOr<korb::HostPort> endpoint = korb::HostPort::Parse(input);
  if (endpoint.ok()) {
    absl::StatusOr<korb::HostPort> again = korb::HostPort::Parse(endpoint->ToString());
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(*again == *endpoint);
  }
}

void FuzzWireMessage(absl::string_view input) {
  korb::ObjectRef proto;
  if (!proto.ParseFromArray(input.data(), static_cast<int>(input.size()))) return;
  absl::StatusOr<korb::Ref> ref = korb::Ref::FromProto(proto);
  if (ref.ok()) {
    CheckAccepted(*ref);
  } else {
    FUZZ_CHECK(ref.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  absl::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    FuzzString(input);
  } else {
    FuzzWireMessage(input);
  }
  return 0;
}
