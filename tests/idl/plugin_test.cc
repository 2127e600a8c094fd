// protoc-gen-korb run through protoc, as a build runs it: what it rejects
// (with a message naming the offending method), its option handling, and the
// banner, comments and includes of what it writes. Paths to protoc, the
// plugin and the protos come from tests/idl/CMakeLists.txt.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <tuple>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/idl/read_file.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

struct ProtocRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

std::string Quote(const std::string& s) { return "'" + s + "'"; }

// A fresh output directory for one test.
std::string OutputDir() {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "korb_plugin_test" /
                              (std::string(test->test_suite_name()) + "." + test->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// Runs protoc with the plugin on `proto` (relative to `proto_root`), writing
// to `out` with plugin parameter `parameter`.
ProtocRun RunProtoc(const std::string& proto_root, const std::string& proto, const std::string& out,
                    const std::string& parameter = "") {
  std::string korb_out = parameter.empty() ? out : parameter + ":" + out;
  std::string command = Quote(KORB_PROTOC) + " --plugin=protoc-gen-korb=" + Quote(KORB_PLUGIN) +
                        " -I" + Quote(proto_root) + " -I" + Quote(KORB_IDL_DIR) +
                        " --korb_out=" + Quote(korb_out) + " " + Quote(proto) + " 2>&1";
  ProtocRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) run.output.append(buffer, n);
  int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// Runs the plugin on a proto it must reject; returns protoc's output.
std::string ExpectRejected(const std::string& proto, const std::string& parameter = "",
                           const std::string& proto_root = KORB_BAD_PROTOS) {
  std::string out = OutputDir();
  ProtocRun run = RunProtoc(proto_root, proto, out, parameter);
  EXPECT_NE(run.exit_code, 0) << run.output;
  // Nothing is written for a rejected file.
  EXPECT_TRUE(std::filesystem::is_empty(out)) << "files written to " << out;
  return run.output;
}

TEST(ProtocGenKorb, RejectsServerStreamingMethod) {
  // Watch returns a stream; the message names the method.
  EXPECT_THAT(ExpectRejected("streaming.proto"),
              HasSubstr("protoc-gen-korb: streaming.proto: method bad.S.Watch is streaming; "
                        "Korb supports unary methods only"));
}

TEST(ProtocGenKorb, RejectsClientStreamingMethod) {
  EXPECT_THAT(ExpectRejected("client_streaming.proto"),
              HasSubstr("protoc-gen-korb: client_streaming.proto: method bad.S.Upload is "
                        "streaming; Korb supports unary methods only"));
}

TEST(ProtocGenKorb, RejectsOnewayMethodWithAReply) {
  // A oneway method's reply is never awaited, so it must be korb.Empty.
  EXPECT_THAT(ExpectRejected("bad_oneway.proto"),
              HasSubstr("protoc-gen-korb: bad_oneway.proto: method bad.S.Fire is oneway but "
                        "returns bad.M; a oneway method must return korb.Empty"));
}

TEST(ProtocGenKorb, RejectsAsyncNameCollision) {
  // rpc Get's GetAsync would collide with rpc GetAsync; both are named.
  std::string output = ExpectRejected("async_collision.proto");
  EXPECT_THAT(output, HasSubstr("methods bad.S.Get and bad.S.GetAsync both generate the C++ "
                                "member SStub::GetAsync"));
}

TEST(ProtocGenKorb, RejectsKeywordManglingCollision) {
  // rpc delete becomes delete_, which rpc delete_ already is.
  EXPECT_THAT(ExpectRejected("keyword_collision.proto"),
              HasSubstr("methods bad.S.delete and bad.S.delete_ both generate the C++ member "
                        "SStub::delete_"));
}

TEST(ProtocGenKorb, RejectsRuntimeReservedName) {
  EXPECT_THAT(ExpectRejected("reserved_name.proto"),
              HasSubstr("method bad.S.korb_dispatch uses a name reserved for Korb's runtime"));
}

TEST(ProtocGenKorb, RejectsClassNameCollision) {
  // message SStub would clash with service S's generated stub class.
  EXPECT_THAT(ExpectRejected("class_collision.proto"),
              HasSubstr("service bad.S generates the class SStub, which collides with bad.SStub"));
}

TEST(ProtocGenKorb, RejectsUnknownOption) {
  EXPECT_THAT(ExpectRejected("korbidl/nopkg.proto", "colour=blue", KORB_TEST_PROTOS),
              HasSubstr("protoc-gen-korb: unknown option 'colour'; known options: generate"));
}

TEST(ProtocGenKorb, RejectsBadGenerateValue) {
  EXPECT_THAT(ExpectRejected("korbidl/nopkg.proto", "generate=everything", KORB_TEST_PROTOS),
              HasSubstr("bad value 'everything' for option 'generate'; expected both, "
                        "servants or stubs"));
}

TEST(ProtocGenKorb, RejectsRepeatedOption) {
  EXPECT_THAT(
      ExpectRejected("korbidl/nopkg.proto", "generate=stubs,generate=servants", KORB_TEST_PROTOS),
      HasSubstr("option 'generate' is given more than once"));
}

TEST(ProtocGenKorb, WritesBannerCommentsAndImports) {
  // The header names its source, carries .proto comments over verbatim, and
  // includes the .pb.h of files its messages come from.
  std::string out = OutputDir();
  ProtocRun run = RunProtoc(KORB_TEST_PROTOS, "korbidl/deep/nest/tricky.proto", out);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::string header = korb::testing::ReadFile(out + "/korbidl/deep/nest/tricky.korb.h");
  std::string source = korb::testing::ReadFile(out + "/korbidl/deep/nest/tricky.korb.cc");
  const std::string banner =
      "// Generated by protoc-gen-korb. DO NOT EDIT.\n"
      "// source: korbidl/deep/nest/tricky.proto\n";
  EXPECT_THAT(header, StartsWith(banner));
  EXPECT_THAT(source, StartsWith(banner));
  EXPECT_THAT(header, HasSubstr("#include \"korbidl/deep/nest/tricky.pb.h\"\n"));
  EXPECT_THAT(header, HasSubstr("#include \"korbidl/shared/types.pb.h\"\n"));
  EXPECT_THAT(header, HasSubstr("#include \"korb/ref.pb.h\"\n"));
  EXPECT_THAT(header, HasSubstr("namespace korbidl::deep::nest {\n"));
  // Service and method comments, including blank lines and '$'.
  EXPECT_THAT(header, HasSubstr("// An interface named by a C++ keyword; its methods are too.\n"));
  EXPECT_THAT(header, HasSubstr("  // Deletes the named thing and returns what it was.\n"
                                "  // A second comment line, with $dollar$ signs"));
  EXPECT_THAT(header, HasSubstr("  // Foo echoes `text` and reports the object id it was called "
                                "on.\n  //\n  // Blank comment lines survive too.\n"));
  // A trailing backslash must not splice the next line into the comment.
  EXPECT_THAT(header, Not(HasSubstr("\\\n")));
}

TEST(ProtocGenKorb, WritesBothFilesForAFileWithoutServices) {
  // Build rules list .korb.h and .korb.cc for every .proto.
  std::string out = OutputDir();
  ProtocRun run = RunProtoc(KORB_TEST_PROTOS, "korbidl/shared/types.proto", out);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(std::filesystem::exists(out + "/korbidl/shared/types.korb.h"));
  EXPECT_TRUE(std::filesystem::exists(out + "/korbidl/shared/types.korb.cc"));
  EXPECT_THAT(korb::testing::ReadFile(out + "/korbidl/shared/types.korb.h"),
              Not(HasSubstr("class ")));
}

TEST(ProtocGenKorb, GenerateOptionSelectsTheSides) {
  // generate=stubs leaves out servants and vice versa; both is the default.
  for (const auto& [parameter, servant, stub] :
       {std::tuple<std::string, bool, bool>{"", true, true},
        {"generate=both", true, true},
        {"generate=stubs", false, true},
        {"generate=servants", true, false}}) {
    std::string out = OutputDir();
    ProtocRun run = RunProtoc(KORB_TEST_PROTOS, "korbidl/nopkg.proto", out, parameter);
    ASSERT_EQ(run.exit_code, 0) << parameter << ": " << run.output;
    std::string header = korb::testing::ReadFile(out + "/korbidl/nopkg.korb.h");
    EXPECT_EQ(header.find("class PlainServant") != std::string::npos, servant) << parameter;
    EXPECT_EQ(header.find("class PlainStub") != std::string::npos, stub) << parameter;
  }
}

}  // namespace
