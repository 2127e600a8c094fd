#include "common/ref.h"

#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/hash/hash_testing.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace korb {
namespace {

using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::testing::HasSubstr;

Ref MakeRef(std::string id, std::string adapter = "bank", std::string type = "bank.Account",
            std::vector<HostPort> endpoints = {{"127.0.0.1", 7000}}) {
  return Ref(std::move(type), std::move(endpoints), std::move(adapter), std::move(id));
}

// Parse(ToString(r)) must give back r, and ToString must be canonical.
void ExpectStringRoundTrip(const Ref& ref) {
  ASSERT_THAT(ref.Validate(), IsOk());
  const std::string text = ref.ToString();
  absl::StatusOr<Ref> parsed = Ref::Parse(text);
  ASSERT_THAT(parsed, IsOk()) << text;
  EXPECT_EQ(*parsed, ref) << text;
  EXPECT_EQ(parsed->ToString(), text);
}

// Every byte string: 256 single bytes, each with and without neighbours.
std::string AllBytes() {
  std::string s;
  for (int b = 0; b < 256; ++b) s.push_back(static_cast<char>(b));
  return s;
}

// --- HostPort ---------------------------------------------------------------

TEST(HostPort, ParsesNamesAndIPv4) {
  // Ordinary "host:port" endpoints are split at the colon.
  EXPECT_EQ(*HostPort::Parse("localhost:1"), (HostPort{"localhost", 1}));
  EXPECT_EQ(*HostPort::Parse("10.0.0.1:65535"), (HostPort{"10.0.0.1", 65535}));
  EXPECT_EQ(*HostPort::Parse("my-host_1.example.com:7000"),
            (HostPort{"my-host_1.example.com", 7000}));
}

TEST(HostPort, StoresIPv6WithoutBracketsAndPrintsThemBracketed) {
  // "[v6]:port" keeps the address bare; ToString brackets it again.
  absl::StatusOr<HostPort> hp = HostPort::Parse("[::1]:7000");
  ASSERT_THAT(hp, IsOk());
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->port, 7000);
  EXPECT_EQ(hp->ToString(), "[::1]:7000");
  EXPECT_EQ(HostPort::Parse("[2001:db8::ffff:1.2.3.4]:80")->host, "2001:db8::ffff:1.2.3.4");
  EXPECT_EQ((HostPort{"example.com", 80}).ToString(), "example.com:80");
}

TEST(HostPort, RejectsMalformedEndpoints) {
  // Each bad endpoint names what is wrong with it.
  struct Case {
    std::string input;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "missing port"},
      {"host", "missing port"},
      {"host:", "missing port"},
      {":80", "empty host"},
      {"host:0", "port \"0\" is out of range"},
      {"host:65536", "out of range"},
      {"host:99999999999999999999", "out of range"},
      {"host:http", "not a number"},
      {"host:-1", "not a number"},
      {"host:+1", "not a number"},
      {"host: 1", "not a number"},
      {"host:080", "leading zero"},
      {"[::1:7000", "unbalanced '['"},
      {"::1]:7000", "unbalanced bracket"},
      {"[::1]]:7000", "expected ':'"},
      {"[::1]", "missing port"},
      {"[]:80", "empty host"},
      {"[example.com]:80", "only for IPv6"},
      {"[zz::1]:80", "not a valid IPv6 address"},
      {"::1:7000", "IPv6 host must be bracketed"},
      {"ho st:80", "contains \" \""},
      {"h%41:80", "contains \"%\""},
      {"h\xC3\xA9:80", "contains \"\\xc3\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    EXPECT_THAT(HostPort::Parse(c.input),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

// --- Percent encoding -------------------------------------------------------

TEST(PercentEncode, EncodesEverythingButUnreservedInUpperCase) {
  // Unreserved bytes pass through; all others, sub-delims included, become %XX.
  EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncode("a/b c%"), "a%2Fb%20c%25");
  EXPECT_EQ(PercentEncode("!$&'()*+,;=:@"), "%21%24%26%27%28%29%2A%2B%2C%3B%3D%3A%40");
  EXPECT_EQ(PercentEncode(std::string("\0\xff", 2)), "%00%FF");
  EXPECT_EQ(PercentEncode("\xC3\xA9"), "%C3%A9");
  EXPECT_EQ(PercentEncode(""), "");
}

TEST(PercentEncode, AppendKeepsExistingContent) {
  // AppendPercentEncoded appends rather than overwrites.
  std::string out = "x/";
  AppendPercentEncoded("a b", &out);
  EXPECT_EQ(out, "x/a%20b");
}

TEST(PercentDecode, InvertsEncodeForEveryByte) {
  // Decode(Encode(s)) == s over all 256 byte values.
  const std::string all = AllBytes();
  EXPECT_EQ(*PercentDecode(PercentEncode(all)), all);
}

TEST(PercentDecode, AcceptsLowerCaseHexAndRawSubDelims) {
  // Lower-case escapes and raw sub-delims, ':' and '@' decode to the same bytes.
  EXPECT_EQ(*PercentDecode("%c3%a9%2f"), "\xC3\xA9/");
  EXPECT_EQ(*PercentDecode("!$&'()*+,;=:@"), "!$&'()*+,;=:@");
}

TEST(PercentDecode, RejectsBadEscapesAndBytesThatMustBeEncoded) {
  // Truncated or non-hex escapes and raw non-pchar bytes are errors.
  struct Case {
    std::string input;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"%", "truncated percent escape \"%\" at offset 0"},
      {"ab%4", "truncated percent escape \"%4\" at offset 2"},
      {"100%", "truncated percent escape"},
      {"%zz", "invalid percent escape \"%zz\""},
      {"%4g", "invalid percent escape \"%4g\""},
      {"%%41", "invalid percent escape \"%%4\""},
      {"a b", "byte \" \" at offset 1 must be percent-encoded"},
      {"a/b", "byte \"/\""},
      {"a?b", "byte \"?\""},
      {"a#b", "byte \"#\""},
      {"a[b", "byte \"[\""},
      {"a]b", "byte \"]\""},
      {"a\"b", "byte \"\\\"\""},
      {"a<b", "byte \"<\""},
      {"a\\b", "byte \"\\\\\""},
      {"a{b", "byte \"{\""},
      {"a|b", "byte \"|\""},
      {"a`b", "byte \"`\""},
      {"a^b", "byte \"^\""},
      {std::string("a\0b", 3), "byte \"\\x00\""},
      {"a\x7f", "byte \"\\x7f\""},
      {"a\nb", "byte \"\\n\""},
      {"\xC3\xA9", "byte \"\\xc3\" at offset 0"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::CHexEscape(c.input));
    EXPECT_THAT(PercentDecode(c.input),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

// --- Ref: string form -------------------------------------------------------

TEST(Ref, ParsesTheDocumentedExample) {
  // The usage example in ref.h.
  absl::StatusOr<Ref> ref = Ref::Parse("korb://127.0.0.1:7000/bank/acct%2F1?type=bank.Account");
  ASSERT_THAT(ref, IsOk());
  EXPECT_EQ(ref->type(), "bank.Account");
  EXPECT_EQ(ref->endpoints(), (std::vector<HostPort>{{"127.0.0.1", 7000}}));
  EXPECT_EQ(ref->adapter(), "bank");
  EXPECT_EQ(ref->id(), "acct/1");
}

TEST(Ref, PrintsCanonicalForm) {
  // Several endpoints, IPv6 bracketed, escapes upper case, type last.
  Ref ref("a.b.C", {{"h1", 1}, {"::1", 2}, {"10.0.0.1", 65535}}, "my adapter", "x/y%z\xff");
  EXPECT_EQ(ref.ToString(),
            "korb://h1:1,[::1]:2,10.0.0.1:65535/my%20adapter/x%2Fy%25z%FF?type=a.b.C");
  EXPECT_EQ(MakeRef("1", "a", "").ToString(), "korb://127.0.0.1:7000/a/1");
  std::ostringstream os;
  os << MakeRef("1");
  EXPECT_EQ(os.str(), "korb://127.0.0.1:7000/bank/1?type=bank.Account");
}

TEST(Ref, RoundTripsAwkwardIdsAndAdapters) {
  // Ids and adapters with reserved, non-ASCII and binary bytes survive printing.
  const std::vector<std::string> ids = {
      "acct/1",
      "/leading",
      "trailing/",
      "//",
      "with space",
      "100%",
      "%41",
      "caf\xC3\xA9 \xE2\x82\xAC",
      "?type=x#y",
      "a,b:c@d;e=f",
      "[::1]",
      std::string("\0", 1),
      std::string("nul\0in\0the\0middle", 17),
      "\x01\x7f\x80\xff",
      "~unreserved-._",
      AllBytes(),
  };
  for (const std::string& id : ids) {
    SCOPED_TRACE(absl::CHexEscape(id));
    ExpectStringRoundTrip(MakeRef(id));
    ExpectStringRoundTrip(MakeRef("id", id));
  }
}

TEST(Ref, RoundTripsEndpointsAndTypes) {
  // IPv6, several replicas, no type, single-component type.
  ExpectStringRoundTrip(MakeRef("1", "a", "bank.Account", {{"::1", 7000}}));
  ExpectStringRoundTrip(MakeRef("1", "a", "", {{"fe80::1:2", 1}}));
  ExpectStringRoundTrip(
      MakeRef("1", "a", "p.v1.S", {{"a.example", 1}, {"2001:db8::1", 2}, {"10.1.2.3", 65535}}));
  ExpectStringRoundTrip(MakeRef("1", "a", "Greeter"));
  ExpectStringRoundTrip(MakeRef("1", "a", "_x._y1"));
}

TEST(Ref, ParseOfToStringIsIdentityForRandomRefs) {
  // Property: random byte adapters/ids and random endpoints round-trip (fixed seed).
  std::mt19937 rng(20240611);  // mt19937's output sequence is fixed by the standard.
  auto random_bytes = [&rng](size_t max_len) {
    std::string s(1 + rng() % max_len, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    return s;
  };
  const std::vector<std::string> hosts = {"localhost", "10.0.0.1", "::1", "2001:db8::7"};
  for (int i = 0; i < 2000; ++i) {
    std::vector<HostPort> endpoints;
    for (size_t n = 1 + rng() % 3; n > 0; --n) {
      endpoints.push_back({hosts[rng() % hosts.size()], static_cast<uint16_t>(1 + rng() % 65535)});
    }
    // Separate statements: argument evaluation order would make rng() calls unordered.
    std::string type = rng() % 2 ? "pkg.Service" : "";
    std::string adapter = random_bytes(8);
    std::string id = random_bytes(40);
    Ref ref(std::move(type), std::move(endpoints), std::move(adapter), std::move(id));
    SCOPED_TRACE(ref.ToString());
    ExpectStringRoundTrip(ref);
    if (::testing::Test::HasFailure()) break;
  }
}

TEST(Ref, ParseAcceptsNonCanonicalButEquivalentSpellings) {
  // Lower-case escapes, raw sub-delims and an upper-case scheme parse to the same
  // reference, which then prints canonically.
  absl::StatusOr<Ref> ref = Ref::Parse("KORB://h:1/a!b/x%2fy,z:w@v");
  ASSERT_THAT(ref, IsOk());
  EXPECT_EQ(ref->adapter(), "a!b");
  EXPECT_EQ(ref->id(), "x/y,z:w@v");
  EXPECT_EQ(ref->ToString(), "korb://h:1/a%21b/x%2Fy%2Cz%3Aw%40v");
}

TEST(Ref, RejectsMalformedStrings) {
  // Every kind of malformed reference is INVALID_ARGUMENT naming the bad part.
  struct Case {
    std::string input;
    std::string message;
  };
  const std::vector<Case> cases = {
      // Scheme.
      {"", "scheme"},
      {"http://h:1/a/b", "scheme"},
      {"korb:/h:1/a/b", "scheme"},
      {"korb:h:1/a/b", "scheme"},
      {" korb://h:1/a/b", "scheme"},
      // Endpoints.
      {"korb://", "missing endpoints"},
      {"korb:///a/b", "missing endpoints"},
      {"korb://?type=a.B", "missing endpoints"},
      {"korb://:1/a/b", "empty host"},
      {"korb://[]:1/a/b", "empty host"},
      {"korb://h/a/b", "missing port"},
      {"korb://h:/a/b", "missing port"},
      {"korb://h:0/a/b", "port \"0\" is out of range 1..65535"},
      {"korb://h:65536/a/b", "port \"65536\" is out of range"},
      {"korb://h:123456/a/b", "out of range"},
      {"korb://h:x1/a/b", "port \"x1\" is not a number"},
      {"korb://h:1x/a/b", "not a number"},
      {"korb://h:007/a/b", "leading zero"},
      {"korb://[::1:1/a/b", "unbalanced '['"},
      {"korb://::1]:1/a/b", "unbalanced bracket"},
      {"korb://h]:1/a/b", "unbalanced bracket"},
      {"korb://::1:1/a/b", "IPv6 host must be bracketed"},
      {"korb://[g::1]:1/a/b", "not a valid IPv6 address"},
      {"korb://h:1,/a/b", "empty endpoint"},
      {"korb://,h:1/a/b", "empty endpoint"},
      {"korb://h:1,,h:2/a/b", "empty endpoint"},
      {"korb://h:1,h:0/a/b", "endpoint \"h:0\""},
      {"korb://h o:1/a/b", "host \"h o\" contains \" \""},
      {"korb://h%20:1/a/b", "contains \"%\""},
      {"korb://caf\xC3\xA9:1/a/b", "contains \"\\xc3\""},
      {"korb://user@h:1/a/b", "contains \"@\""},
      // Path.
      {"korb://h:1", "missing adapter"},
      {"korb://h:1?type=a.B", "missing adapter"},
      {"korb://h:1/", "empty adapter"},
      {"korb://h:1//b", "empty adapter"},
      {"korb://h:1/a", "missing object id"},
      {"korb://h:1/a?type=a.B", "missing object id"},
      {"korb://h:1/a/", "empty object id"},
      {"korb://h:1/a/b/c", "extra path segment in object id \"b/c\""},
      {"korb://h:1/a/b/", "extra path segment"},
      {"korb://h:1/a/%2", "object id: truncated percent escape \"%2\""},
      {"korb://h:1/a/%", "object id: truncated percent escape"},
      {"korb://h:1/a/50%", "object id: truncated percent escape"},
      {"korb://h:1/a/%G0", "object id: invalid percent escape \"%G0\""},
      {"korb://h:1/%xy/b", "adapter: invalid percent escape \"%xy\""},
      {"korb://h:1/a/b c", "object id: byte \" \" at offset 1 must be percent-encoded"},
      {"korb://h:1/a b/c", "adapter: byte \" \""},
      {"korb://h:1/a/b\tc", "object id: byte \"\\t\""},
      {std::string("korb://h:1/a/b\0c", 16), "object id: byte \"\\x00\""},
      {"korb://h:1/a/b\x7f", "object id: byte \"\\x7f\""},
      {"korb://h:1/a/caf\xC3\xA9", "object id: byte \"\\xc3\""},
      {"korb://h:1/a/[b]", "object id: byte \"[\""},
      {"korb://h:1/a]/b", "adapter: byte \"]\""},
      {"korb://h:1/a/b\"", "object id: byte \"\\\"\""},
      {"korb://h:1/a/{b}", "object id: byte \"{\""},
      // Fragment.
      {"korb://h:1/a/b#frag", "fragment \"#frag\" is not allowed"},
      {"korb://h:1/a/b?type=a.B#f", "fragment"},
      {"korb://h:1/a/b#", "fragment"},
      {"korb://h:1/a#b/c", "fragment"},
      // Query.
      {"korb://h:1/a/b?", "empty query"},
      {"korb://h:1/a/b?type=", "empty type"},
      {"korb://h:1/a/b?type", "empty type"},
      {"korb://h:1/a/b?kind=a.B", "unknown query parameter \"kind\""},
      {"korb://h:1/a/b?Type=a.B", "unknown query parameter \"Type\""},
      {"korb://h:1/a/b?type=a.B&x=1", "unknown query parameter \"x\""},
      {"korb://h:1/a/b?=a.B", "unknown query parameter \"\""},
      {"korb://h:1/a/b?type=a.B&type=a.B", "duplicate query parameter \"type\""},
      {"korb://h:1/a/b?type=a.B&type=c.D", "duplicate"},
      {"korb://h:1/a/b?type=a.B&", "empty query parameter"},
      {"korb://h:1/a/b?&type=a.B", "empty query parameter"},
      {"korb://h:1/a/b?type=a..B", "type \"a..B\" is not a dotted identifier"},
      {"korb://h:1/a/b?type=.a.B", "not a dotted identifier"},
      {"korb://h:1/a/b?type=a.B.", "not a dotted identifier"},
      {"korb://h:1/a/b?type=a.1B", "not a dotted identifier"},
      {"korb://h:1/a/b?type=a-b.C", "not a dotted identifier"},
      {"korb://h:1/a/b?type=a%2EB", "not a dotted identifier"},
      {"korb://h:1/a/b?type=a.B=c", "not a dotted identifier"},
      {"korb://h:1/a/b?type=a.B?", "not a dotted identifier"},
      {"korb://h:1/a/b?type=a/B", "not a dotted identifier"},
      {"korb://h:1/a/b?type=a.B c", "type \"a.B c\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::CHexEscape(c.input));
    absl::StatusOr<Ref> ref = Ref::Parse(c.input);
    EXPECT_THAT(ref, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
    // The message quotes the whole input, escaped.
    EXPECT_THAT(ref.status().message(), HasSubstr("\"" + absl::CHexEscape(c.input) + "\""));
  }
}

TEST(Ref, ErrorMessagesCutVeryLongInput) {
  // A huge malformed input yields a bounded message.
  const std::string uri = "korb://h:1/a/" + std::string(100000, ' ');
  absl::StatusOr<Ref> ref = Ref::Parse(uri);
  EXPECT_THAT(ref, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"...")));
  EXPECT_LT(ref.status().message().size(), 2000u);
}

// Fuzz: 20000 mutations (1 to 4 inserted, erased or replaced characters of
// `alphabet`, fixed `seed`) of `seed_uri` either fail cleanly or parse to a
// reference that is valid and round-trips.
void MutationsFailCleanlyOrRoundTrip(const std::string& seed_uri, const std::string& alphabet,
                                     unsigned seed) {
  std::mt19937 rng(seed);
  for (int i = 0; i < 20000; ++i) {
    std::string uri = seed_uri;
    for (int edits = 1 + rng() % 4; edits > 0; --edits) {
      const size_t pos = rng() % (uri.size() + 1);
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          uri.insert(pos, 1, c);
          break;
        case 1:
          if (pos < uri.size()) uri.erase(pos, 1);
          break;
        default:
          if (pos < uri.size()) uri[pos] = c;
          break;
      }
    }
    absl::StatusOr<Ref> ref = Ref::Parse(uri);
    if (!ref.ok()) {
      ASSERT_EQ(ref.status().code(), absl::StatusCode::kInvalidArgument) << absl::CHexEscape(uri);
      continue;
    }
    SCOPED_TRACE(absl::CHexEscape(uri));
    ExpectStringRoundTrip(*ref);
    if (::testing::Test::HasFailure()) break;
  }
}

TEST(Ref, ParseNeverCrashesAndAcceptedInputRoundTrips) {
  // Mutations of a valid reference (fixed seed).
  static constexpr char kAlphabet[] = "korb:/[]?#=&,.%0aF9:@! \x00\xff";
  MutationsFailCleanlyOrRoundTrip("korb://h:1,[::1]:65535/ad%2Fap/i%00d?type=a.B",
                                  std::string(kAlphabet, sizeof(kAlphabet) - 1),  // keeps NUL
                                  7);
}

// --- Ref: proto form and validation -----------------------------------------

TEST(Ref, ProtoRoundTripIsLossless) {
  // ToProto/FromProto, also through the serialized wire form, with binary ids.
  Ref ref("bank.Account", {{"h1", 1}, {"::1", 65535}}, "bank", std::string("a/\0\xff b", 6));
  korb::ObjectRef proto = ref.ToProto();
  EXPECT_EQ(proto.type(), "bank.Account");
  ASSERT_EQ(proto.endpoints_size(), 2);
  EXPECT_EQ(proto.endpoints(1).host(), "::1");
  EXPECT_EQ(proto.endpoints(1).port(), 65535u);
  EXPECT_EQ(proto.adapter(), "bank");
  EXPECT_EQ(proto.id(), ref.id());
  EXPECT_EQ(*Ref::FromProto(proto), ref);

  korb::ObjectRef reparsed;
  ASSERT_TRUE(reparsed.ParseFromString(proto.SerializeAsString()));
  EXPECT_EQ(*Ref::FromProto(reparsed), ref);
  EXPECT_EQ(*Ref::FromProto(MakeRef("1", "a", "").ToProto()), MakeRef("1", "a", ""));
}

TEST(Ref, FromProtoValidates) {
  // Protos that no string form could express are rejected.
  auto valid = [] { return MakeRef("1").ToProto(); };
  struct Case {
    std::string what;
    korb::ObjectRef proto;
    std::string message;
  };
  std::vector<Case> cases;
  cases.push_back({"no endpoints", valid(), "no endpoints"});
  cases.back().proto.clear_endpoints();
  cases.push_back({"port 0", valid(), "port 0 is out of range"});
  cases.back().proto.mutable_endpoints(0)->set_port(0);
  cases.push_back({"port 65536", valid(), "port 65536 is out of range"});
  cases.back().proto.mutable_endpoints(0)->set_port(65536);
  cases.push_back({"second endpoint bad", valid(), "endpoint 1 port 70000"});
  cases.back().proto.add_endpoints()->set_port(70000);
  cases.push_back({"empty host", valid(), "empty host"});
  cases.back().proto.mutable_endpoints(0)->set_host("");
  cases.push_back({"bad host", valid(), "host \"a/b\" contains \"/\""});
  cases.back().proto.mutable_endpoints(0)->set_host("a/b");
  cases.push_back({"bad IPv6 host", valid(), "not a valid IPv6 address"});
  cases.back().proto.mutable_endpoints(0)->set_host("1:2:x");
  cases.push_back({"empty adapter", valid(), "empty adapter"});
  cases.back().proto.clear_adapter();
  cases.push_back({"empty id", valid(), "empty object id"});
  cases.back().proto.clear_id();
  cases.push_back({"bad type", valid(), "type \"bank Account\" is not a dotted identifier"});
  cases.back().proto.set_type("bank Account");
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_THAT(Ref::FromProto(c.proto),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

TEST(Ref, DefaultIsInvalid) {
  // A default-constructed reference names nothing.
  EXPECT_FALSE(Ref().IsValid());
  EXPECT_THAT(Ref().Validate(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(MakeRef("1").IsValid());
  EXPECT_FALSE(MakeRef("1", "a", "", {{"h", 0}}).IsValid());
}

// --- Indirect references (korbname://) --------------------------------------

TEST(IndirectRef, ParsesTheDocumentedExample) {
  // The naming service's endpoints, the name, the type.
  absl::StatusOr<Ref> ref =
      Ref::Parse("korbname://host1:2809,[::1]:2810/bank/accounts/main?type=bank.Account");
  ASSERT_THAT(ref, IsOk());
  EXPECT_TRUE(ref->is_indirect());
  EXPECT_EQ(ref->name(), "bank/accounts/main");
  EXPECT_EQ(ref->type(), "bank.Account");
  EXPECT_EQ(ref->endpoints(), (std::vector<HostPort>{{"host1", 2809}, {"::1", 2810}}));
  EXPECT_EQ(ref->adapter(), "");
  EXPECT_EQ(ref->id(), "");
  EXPECT_EQ(*ref, Ref::Indirect("bank.Account", {{"host1", 2809}, {"::1", 2810}},
                                "bank/accounts/main"));
  EXPECT_FALSE(MakeRef("1").is_indirect());
}

TEST(IndirectRef, RoundTripsNamesEndpointsAndTypes) {
  // Parse(ToString(r)) == r for names at the limits, with and without type.
  const std::string longest_component(kMaxNameComponentBytes, 'c');
  std::string longest_name = longest_component;
  while (longest_name.size() + 1 + kMaxNameComponentBytes <= kMaxNameBytes) {
    longest_name += "/" + longest_component;
  }
  longest_name += "/" + std::string(kMaxNameBytes - longest_name.size() - 1, 'd');
  ASSERT_EQ(longest_name.size(), kMaxNameBytes);
  for (const std::string& name :
       {std::string("bank"), std::string("a/b/c"), std::string("A-Z_a.z~09"), std::string("..."),
        std::string(".x/..y/~"), longest_component, longest_name}) {
    for (const std::string& type : {std::string(""), std::string("bank.Account")}) {
      const Ref ref = Ref::Indirect(type, {{"h", 1}, {"::1", 65535}, {"10.0.0.1", 80}}, name);
      SCOPED_TRACE(ref.ToString());
      ExpectStringRoundTrip(ref);
      EXPECT_EQ(ref.ToString(), absl::StrCat("korbname://h:1,[::1]:65535,10.0.0.1:80/", name,
                                             type.empty() ? "" : "?type=", type));
    }
  }
}

TEST(IndirectRef, ParseOfToStringIsIdentityForRandomNames) {
  // Property: random valid names (1-8 components of random unreserved
  // characters) round-trip through the string and the proto (fixed seed).
  static constexpr char kUnreserved[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
  std::mt19937 rng(9);
  for (int i = 0; i < 2000; ++i) {
    std::string name;
    for (size_t n = 1 + rng() % 8; n > 0; --n) {
      std::string component(1 + rng() % 20, 'x');
      for (char& c : component) c = kUnreserved[rng() % (sizeof(kUnreserved) - 1)];
      if (component == "." || component == "..") component += "x";
      if (!name.empty()) name += "/";
      name += component;
    }
    const Ref ref = Ref::Indirect("pkg.S", {{"h", static_cast<uint16_t>(1 + rng() % 65535)}}, name);
    SCOPED_TRACE(ref.ToString());
    ExpectStringRoundTrip(ref);
    EXPECT_EQ(*Ref::FromProto(ref.ToProto()), ref);
    if (::testing::Test::HasFailure()) break;
  }
}

TEST(IndirectRef, ParseAcceptsAnUpperCaseScheme) {
  // Scheme names are case-insensitive; the canonical form is lower case.
  absl::StatusOr<Ref> ref = Ref::Parse("KorbName://h:1/bank");
  ASSERT_THAT(ref, IsOk());
  EXPECT_EQ(ref->ToString(), "korbname://h:1/bank");
}

TEST(IndirectRef, RejectsMalformedStrings) {
  // Each malformed indirect reference is INVALID_ARGUMENT naming the bad part
  // and quoting the input.
  struct Case {
    std::string input;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"korbname:/h:1/bank", "scheme"},
      {"korbnam://h:1/bank", "scheme"},
      {"korbname://", "missing endpoints (expected korbname://host:port/<name>)"},
      {"korbname:///bank", "missing endpoints"},
      {"korbname://h/bank", "missing port"},
      {"korbname://h:0/bank", "out of range"},
      {"korbname://h:1,/bank", "empty endpoint"},
      {"korbname://::1:1/bank", "IPv6 host must be bracketed"},
      {"korbname://h:1", "missing name"},
      {"korbname://h:1?type=a.B", "missing name"},
      {"korbname://h:1/", "empty name"},
      {"korbname://h:1/?type=a.B", "empty name"},
      {"korbname://h:1//bank", "component 1 is empty"},
      {"korbname://h:1/bank/", "component 2 is empty"},
      {"korbname://h:1/bank//x", "component 2 is empty"},
      {"korbname://h:1/./bank", "component 1 \".\" is not allowed"},
      {"korbname://h:1/bank/..", "component 2 \"..\" is not allowed"},
      {"korbname://h:1/ba nk", "contains \" \""},
      {"korbname://h:1/ba%6Ek", "contains \"%\""},
      {"korbname://h:1/b:a", "contains \":\""},
      {"korbname://h:1/b@a", "contains \"@\""},
      {"korbname://h:1/caf\xC3\xA9", "contains \"\\xc3\""},
      {std::string("korbname://h:1/a\0b", 18), "contains \"\\x00\""},
      {"korbname://h:1/" + std::string(kMaxNameComponentBytes + 1, 'c'), "is 65 bytes long; at most 64 are allowed"},
      {"korbname://h:1/" + std::string(200, 'a') + "/" + std::string(60, 'b'),
       "is 261 bytes long; at most 256 are allowed"},
      {"korbname://h:1/bank#frag", "fragment \"#frag\" is not allowed"},
      {"korbname://h:1/bank?", "empty query"},
      {"korbname://h:1/bank?type=", "empty type"},
      {"korbname://h:1/bank?kind=a.B", "unknown query parameter \"kind\""},
      {"korbname://h:1/bank?type=a.B&type=a.B", "duplicate query parameter"},
      {"korbname://h:1/bank?type=a..B", "not a dotted identifier"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::CHexEscape(c.input));
    absl::StatusOr<Ref> ref = Ref::Parse(c.input);
    EXPECT_THAT(ref, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
    EXPECT_THAT(ref.status().message(), HasSubstr("\"" + absl::CHexEscape(c.input).substr(0, 200)));
  }
}

TEST(IndirectRef, ParseNeverCrashesAndAcceptedInputRoundTrips) {
  // Mutations of a valid indirect reference parse to a valid reference of
  // either form, or fail cleanly (fixed seed).
  static constexpr char kAlphabet[] = "korbname:/[]?#=&,.%0aF9:@! \x00\xff";
  MutationsFailCleanlyOrRoundTrip("korbname://h:1,[::1]:65535/bank/acc.t/~m?type=a.B",
                                  std::string(kAlphabet, sizeof(kAlphabet) - 1), 11);
}

TEST(IndirectRef, ProtoCarriesTheNameInItsOwnField) {
  // korb.ObjectRef.name (field 5) holds the name; adapter and id stay empty.
  const Ref ref = Ref::Indirect("bank.Bank", {{"h", 2809}}, "bank");
  korb::ObjectRef proto = ref.ToProto();
  EXPECT_EQ(proto.name(), "bank");
  EXPECT_EQ(proto.adapter(), "");
  EXPECT_EQ(proto.id(), "");
  korb::ObjectRef reparsed;
  ASSERT_TRUE(reparsed.ParseFromString(proto.SerializeAsString()));
  EXPECT_EQ(*Ref::FromProto(reparsed), ref);
  // A direct reference leaves the field empty, so its encoding is unchanged.
  EXPECT_EQ(MakeRef("1").ToProto().name(), "");
}

TEST(IndirectRef, ValidateRejectsMixedAndMalformedForms) {
  // A name with an adapter or id, or a bad name, is invalid (from the proto too).
  korb::ObjectRef mixed = MakeRef("1").ToProto();
  mixed.set_name("bank");
  EXPECT_THAT(Ref::FromProto(mixed), StatusIs(absl::StatusCode::kInvalidArgument,
                                              HasSubstr("has no adapter or object id")));
  korb::ObjectRef bad_name = Ref::Indirect("", {{"h", 1}}, "bank").ToProto();
  bad_name.set_name("bank/../x");
  EXPECT_THAT(Ref::FromProto(bad_name),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"..\" is not allowed")));
  EXPECT_THAT(Ref::Indirect("", {}, "bank").Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no endpoints")));
  EXPECT_THAT(Ref::Indirect("a b", {{"h", 1}}, "bank").Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a dotted identifier")));
  EXPECT_TRUE(Ref::Indirect("", {{"h", 1}}, "bank").IsValid());
}

TEST(ValidateName, AcceptsTheNamingRulesAndNamesWhatIsWrong) {
  // naming.proto's rules, each violation with its own message.
  EXPECT_THAT(ValidateName("bank/accounts/main"), IsOk());
  EXPECT_THAT(ValidateName(std::string(kMaxNameComponentBytes, 'x')), IsOk());
  EXPECT_THAT(ValidateName(""), StatusIs(absl::StatusCode::kInvalidArgument, "empty name"));
  EXPECT_THAT(ValidateName("/a"), StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("component 1 is empty")));
  EXPECT_THAT(ValidateName("a/./b"), StatusIs(absl::StatusCode::kInvalidArgument,
                                              HasSubstr("component 2 \".\" is not allowed")));
  EXPECT_THAT(ValidateName("a+b"), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("contains \"+\" (%2B)")));
  EXPECT_THAT(ValidateName(std::string(kMaxNameBytes + 1, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most 256")));
  // A hostile, huge name is quoted only in part.
  absl::Status huge = ValidateName(std::string(100000, 'a'));
  EXPECT_LT(huge.message().size(), 400u);
}

// --- Ref: value semantics ---------------------------------------------------

TEST(Ref, EqualityComparesEveryField) {
  // Refs differing in any one field are unequal.
  const Ref base = MakeRef("1");
  EXPECT_EQ(base, MakeRef("1"));
  EXPECT_NE(base, MakeRef("2"));
  EXPECT_NE(base, MakeRef("1", "other"));
  EXPECT_NE(base, MakeRef("1", "bank", "bank.Other"));
  EXPECT_NE(base, MakeRef("1", "bank", "bank.Account", {{"127.0.0.1", 7001}}));
  EXPECT_NE(base, MakeRef("1", "bank", "bank.Account", {{"127.0.0.1", 7000}, {"h", 1}}));
  Ref retyped = base;
  retyped.set_type("x.Y");
  EXPECT_NE(base, retyped);
}

TEST(Ref, HashIsConsistentWithEquality) {
  // absl's hash checker over refs and endpoints that differ in each field.
  EXPECT_TRUE(absl::VerifyTypeImplementsAbslHashCorrectly({
      Ref(),
      MakeRef("1"),
      MakeRef("2"),
      MakeRef(std::string("\0", 1)),
      MakeRef("12", "a"),
      MakeRef("2", "a1"),
      MakeRef("1", "bank", ""),
      MakeRef("1", "bank", "bank.Other"),
      MakeRef("1", "bank", "bank.Account", {{"127.0.0.1", 7001}}),
      MakeRef("1", "bank", "bank.Account", {{"127.0.0.1", 7000}, {"h", 1}}),
      MakeRef("1", "bank", "bank.Account", {{"h", 1}, {"127.0.0.1", 7000}}),
      Ref::Indirect("bank.Account", {{"127.0.0.1", 7000}}, "bank"),
      Ref::Indirect("bank.Account", {{"127.0.0.1", 7000}}, "bank/1"),
      Ref::Indirect("", {{"127.0.0.1", 7000}}, "bank"),
  }));
  EXPECT_TRUE(absl::VerifyTypeImplementsAbslHashCorrectly({
      HostPort{},
      HostPort{"h", 1},
      HostPort{"h", 2},
      HostPort{"h1", 1},
      HostPort{"::1", 1},
  }));
}

// --- TLS references (korbs://, korbnames://) -----------------------------------

TEST(TlsRef, SchemeMarksEveryEndpointAndRoundTrips) {
  // korbs:// is korb:// whose endpoints speak TLS only; it prints back the same.
  absl::StatusOr<Ref> ref = Ref::Parse("korbs://h1:7443,[::1]:7444/bank/a%2F1?type=bank.Account");
  ASSERT_THAT(ref, IsOk());
  EXPECT_TRUE(ref->tls());
  ASSERT_EQ(ref->endpoints().size(), 2u);
  EXPECT_TRUE(ref->endpoints()[0].tls);
  EXPECT_TRUE(ref->endpoints()[1].tls);
  EXPECT_EQ(ref->id(), "a/1");
  EXPECT_EQ(ref->ToString(), "korbs://h1:7443,[::1]:7444/bank/a%2F1?type=bank.Account");
  ExpectStringRoundTrip(*ref);
  EXPECT_EQ(*Ref::FromProto(ref->ToProto()), *ref);
  // Host and port still print without the marker: they are gRPC targets.
  EXPECT_EQ(ref->endpoints()[0].ToString(), "h1:7443");
}

TEST(TlsRef, TlsAndPlaintextReferencesDiffer) {
  // The marker is part of the value: equal, hash and the channel key.
  const Ref plain = MakeRef("1");
  Ref secure = plain;
  secure.set_tls(true);
  EXPECT_NE(plain, secure);
  EXPECT_NE(plain.endpoints().front(), secure.endpoints().front());
  EXPECT_EQ(secure.ToString(), "korbs://127.0.0.1:7000/bank/1?type=bank.Account");
  EXPECT_FALSE(Ref::Parse("korb://127.0.0.1:7000/bank/1")->tls());
  EXPECT_TRUE(absl::VerifyTypeImplementsAbslHashCorrectly({plain, secure}));
}

TEST(TlsRef, IndirectSchemeMarksTheNamingEndpoints) {
  // korbnames:// names an object in a naming service reached over TLS.
  absl::StatusOr<Ref> ref = Ref::Parse("KorbNames://h:2809/bank/main?type=bank.Bank");
  ASSERT_THAT(ref, IsOk());
  EXPECT_TRUE(ref->is_indirect());
  EXPECT_TRUE(ref->tls());
  EXPECT_EQ(ref->ToString(), "korbnames://h:2809/bank/main?type=bank.Bank");
  ExpectStringRoundTrip(*ref);
  EXPECT_EQ(*Ref::FromProto(ref->ToProto()), *ref);
}

TEST(TlsRef, ProtoCarriesTheMarkerPerEndpoint) {
  // korb.Endpoint.tls (field 3); a plaintext reference's encoding is unchanged.
  Ref secure = MakeRef("1");
  secure.set_tls(true);
  korb::ObjectRef proto = secure.ToProto();
  ASSERT_EQ(proto.endpoints_size(), 1);
  EXPECT_TRUE(proto.endpoints(0).tls());
  EXPECT_EQ(MakeRef("1").ToProto().SerializeAsString(),
            [] {
              korb::ObjectRef p = MakeRef("1").ToProto();
              p.mutable_endpoints(0)->clear_tls();
              return p.SerializeAsString();
            }());
}

TEST(TlsRef, EndpointsMustAgreeOnTls) {
  // A mixed reference has no string form and is rejected from the wire too.
  const Ref mixed = MakeRef("1", "bank", "bank.Account",
                            {{"h1", 1, /*tls=*/true}, {"h2", 2, /*tls=*/false}});
  EXPECT_THAT(mixed.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("endpoint 1 (h2:2) is plaintext and endpoint 0 (h1:1) is TLS")));
  EXPECT_THAT(Ref::FromProto(mixed.ToProto()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("must agree on TLS")));
}

TEST(TlsRef, RejectsMalformedSchemes) {
  // Near misses of the TLS schemes are INVALID_ARGUMENT naming the schemes.
  for (const char* input : {"korbs:/h:1/a/b", "korbss://h:1/a/b", "korb s://h:1/a/b",
                            "korbnamess://h:1/bank", "korbsname://h:1/bank"}) {
    SCOPED_TRACE(input);
    EXPECT_THAT(Ref::Parse(input), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("\"korbs://\", \"korbnames://\"")));
  }
  EXPECT_THAT(Ref::Parse("korbs://"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected korbs://host:port/<adapter>/<object-id>")));
}

TEST(TlsRef, ParseNeverCrashesAndAcceptedInputRoundTrips) {
  // Mutations of valid TLS references parse to a valid reference or fail
  // cleanly (fixed seed).
  static constexpr char kAlphabet[] = "korbsname:/[]?#=&,.%0aF9:@! \x00\xff";
  const std::string alphabet(kAlphabet, sizeof(kAlphabet) - 1);
  MutationsFailCleanlyOrRoundTrip("korbs://h:1,[::1]:65535/ad%2Fap/i%00d?type=a.B", alphabet, 13);
  MutationsFailCleanlyOrRoundTrip("korbnames://h:1/bank/acc.t/~m?type=a.B", alphabet, 17);
}

}  // namespace
}  // namespace korb
