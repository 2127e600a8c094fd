#include "common/wire.h"

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/cord_test_helpers.h"
#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "gtest/gtest.h"

namespace korb {
namespace {

constexpr ErrorKind kAllKinds[] = {ErrorKind::kObjectNotExist, ErrorKind::kNoSuchMethod,
                                   ErrorKind::kBadRequest, ErrorKind::kTransient,
                                   ErrorKind::kForward, ErrorKind::kNameNotBound,
                                   ErrorKind::kPermissionDenied};

// --- Error kinds ------------------------------------------------------------

TEST(ErrorKind, WireNamesAreFixed) {
  // The names are protocol: other implementations send and match them.
  EXPECT_EQ(ErrorKindName(ErrorKind::kNone), "");
  EXPECT_EQ(ErrorKindName(ErrorKind::kObjectNotExist), "object-not-exist");
  EXPECT_EQ(ErrorKindName(ErrorKind::kNoSuchMethod), "no-such-method");
  EXPECT_EQ(ErrorKindName(ErrorKind::kBadRequest), "bad-request");
  EXPECT_EQ(ErrorKindName(ErrorKind::kTransient), "transient");
  EXPECT_EQ(ErrorKindName(ErrorKind::kForward), "forward");
  EXPECT_EQ(ErrorKindName(ErrorKind::kNameNotBound), "name-not-bound");
  EXPECT_EQ(ErrorKindName(ErrorKind::kPermissionDenied), "permission-denied");
}

TEST(ErrorKind, NamesRoundTrip) {
  // ParseErrorKind inverts ErrorKindName for every kind.
  for (ErrorKind kind : kAllKinds) {
    EXPECT_EQ(ParseErrorKind(ErrorKindName(kind)), kind) << ErrorKindName(kind);
  }
}

TEST(ErrorKind, UnknownNamesAreNone) {
  // Unknown, empty, differently cased or padded names refine nothing.
  for (absl::string_view name : {"", "bogus", "Transient", "transient ", "object"}) {
    EXPECT_EQ(ParseErrorKind(name), ErrorKind::kNone) << name;
  }
  EXPECT_EQ(ParseErrorKind(absl::string_view("forward\0", 8)), ErrorKind::kNone);
}

TEST(ErrorKind, AttachedKindIsReadBack) {
  // WithErrorKind stores the kind as a payload; code and message are unchanged.
  for (ErrorKind kind : kAllKinds) {
    absl::Status status = WithErrorKind(absl::NotFoundError("no account 7"), kind);
    EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(status.message(), "no account 7");
    EXPECT_EQ(ErrorKindOf(status), kind);
    absl::optional<absl::Cord> payload = status.GetPayload(kErrorPayloadUrl);
    ASSERT_TRUE(payload.has_value());
    EXPECT_EQ(std::string(*payload), ErrorKindName(kind));
  }
}

TEST(ErrorKind, LaterKindReplacesEarlierAndNoneRemovesIt) {
  // A status carries at most one kind.
  absl::Status status = WithErrorKind(absl::UnavailableError("x"), ErrorKind::kTransient);
  status = WithErrorKind(std::move(status), ErrorKind::kForward);
  EXPECT_EQ(ErrorKindOf(status), ErrorKind::kForward);
  status = WithErrorKind(std::move(status), ErrorKind::kNone);
  EXPECT_EQ(ErrorKindOf(status), ErrorKind::kNone);
  EXPECT_FALSE(status.GetPayload(kErrorPayloadUrl).has_value());
  EXPECT_EQ(status, absl::UnavailableError("x"));
}

TEST(ErrorKind, OkAndPlainStatusesHaveNoKind) {
  // OK cannot carry a payload; a plain error has none.
  EXPECT_EQ(ErrorKindOf(absl::OkStatus()), ErrorKind::kNone);
  EXPECT_EQ(WithErrorKind(absl::OkStatus(), ErrorKind::kTransient), absl::OkStatus());
  EXPECT_EQ(ErrorKindOf(WithErrorKind(absl::OkStatus(), ErrorKind::kTransient)), ErrorKind::kNone);
  EXPECT_EQ(ErrorKindOf(absl::InternalError("boom")), ErrorKind::kNone);
}

TEST(ErrorKind, ReadsForeignAndFragmentedPayloads) {
  // A payload set by other code is read by value, whatever its Cord layout.
  absl::Status status = absl::UnavailableError("x");
  status.SetPayload(kErrorPayloadUrl,
                    absl::MakeFragmentedCord<std::vector<std::string>>({"tran", "si", "ent"}));
  EXPECT_EQ(ErrorKindOf(status), ErrorKind::kTransient);
  status.SetPayload(kErrorPayloadUrl, absl::Cord("not-a-kind"));
  EXPECT_EQ(ErrorKindOf(status), ErrorKind::kNone);
}

// --- Object keys ------------------------------------------------------------

TEST(ObjectKey, EncodesBothPartsAndJoinsWithSlash) {
  // The `korb-object` value is "<adapter>/<id>", each percent-encoded.
  EXPECT_EQ(EncodeObjectKey("bank", "acct-1"), "bank/acct-1");
  EXPECT_EQ(EncodeObjectKey("bank", "acct/1"), "bank/acct%2F1");
  EXPECT_EQ(EncodeObjectKey("my/adapter", "a b%"), "my%2Fadapter/a%20b%25");
  EXPECT_EQ(EncodeObjectKey("a", std::string("\0\xff", 2)), "a/%00%FF");
}

TEST(ObjectKey, DecodeInvertsEncode) {
  // Adapters and ids with '/', spaces, '%', UTF-8 and binary bytes round-trip.
  const std::vector<std::string> parts = {
      "x", "acct/1", "/", "a b", "100%", "caf\xC3\xA9", std::string("\0\x01\xff", 3), "~.-_"};
  for (const std::string& adapter : parts) {
    for (const std::string& id : parts) {
      SCOPED_TRACE(absl::CHexEscape(adapter + " | " + id));
      std::string got_adapter, got_id;
      ASSERT_TRUE(DecodeObjectKey(EncodeObjectKey(adapter, id), &got_adapter, &got_id));
      EXPECT_EQ(got_adapter, adapter);
      EXPECT_EQ(got_id, id);
    }
  }
}

TEST(ObjectKey, RandomBytesRoundTrip) {
  // Property over random byte strings (fixed seed).
  std::mt19937 rng(42);
  auto random_bytes = [&rng] {
    std::string s(1 + rng() % 24, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    return s;
  };
  for (int i = 0; i < 2000; ++i) {
    const std::string adapter = random_bytes();
    const std::string id = random_bytes();
    std::string got_adapter, got_id;
    ASSERT_TRUE(DecodeObjectKey(EncodeObjectKey(adapter, id), &got_adapter, &got_id))
        << absl::CHexEscape(EncodeObjectKey(adapter, id));
    ASSERT_EQ(got_adapter, adapter);
    ASSERT_EQ(got_id, id);
  }
}

TEST(ObjectKey, DecodeAcceptsLowerCaseEscapesAndRawSubDelims) {
  // Keys written by hand or by other clients need not be canonical.
  std::string adapter, id;
  ASSERT_TRUE(DecodeObjectKey("b:a@n!k/acct%2f1,x=y", &adapter, &id));
  EXPECT_EQ(adapter, "b:a@n!k");
  EXPECT_EQ(id, "acct/1,x=y");
}

TEST(ObjectKey, DecodeRejectsMalformedKeysAndLeavesOutputsAlone) {
  // Every malformed key fails without touching the outputs.
  const std::vector<std::string> bad = {
      "",
      "bank",
      "/",
      "/id",
      "bank/",
      "bank/a/b",
      "bank//b",
      "bank/a/",
      "bank/%",
      "bank/%2",
      "bank/%zz",
      "%g1/id",
      "bank/a b",
      "ba nk/id",
      "bank/a#b",
      "bank/a?b",
      "bank/[a]",
      "bank/caf\xC3\xA9",
      std::string("bank/a\0", 7),
      "bank/a\n",
  };
  for (const std::string& key : bad) {
    SCOPED_TRACE(absl::CHexEscape(key));
    std::string adapter = "unchanged-adapter", id = "unchanged-id";
    EXPECT_FALSE(DecodeObjectKey(key, &adapter, &id));
    EXPECT_EQ(adapter, "unchanged-adapter");
    EXPECT_EQ(id, "unchanged-id");
  }
}

TEST(Echo, ShortInputIsEscapedWhole) {
  EXPECT_EQ(Echo("bank/a1"), "bank/a1");
  EXPECT_EQ(Echo(std::string("a\0b\n", 4)), "a\\x00b\\n");
  EXPECT_EQ(Echo(""), "");
}

TEST(Echo, LongInputIsCutWithItsSize) {
  std::string echoed = Echo(std::string(7000, 'k'));
  EXPECT_EQ(echoed, std::string(kMaxEchoedBytes, 'k') + "...(7000 bytes)");
  // Escapes count against the bound and are never cut in half.
  echoed = Echo(std::string(1000, '\x01'));
  EXPECT_LE(echoed.size(), kMaxEchoedBytes + 20);
  EXPECT_EQ(echoed.substr(0, 8), "\\x01\\x01");
  EXPECT_EQ(echoed.substr(echoed.find("..."), 16), "...(1000 bytes)");
  EXPECT_EQ(echoed.find("..."), kMaxEchoedBytes / 4 * 4);
}

}  // namespace
}  // namespace korb
