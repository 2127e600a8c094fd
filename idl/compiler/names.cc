#include "idl/compiler/names.h"

#include <google/protobuf/compiler/cpp/names.h>

#include <algorithm>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace korb::idl {
namespace {

// C++20 keywords and alternative tokens, plus NULL (a macro everywhere).
constexpr std::string_view kCppKeywords[] = {
    "NULL",         "alignas",   "alignof",       "and",
    "and_eq",       "asm",       "auto",          "bitand",
    "bitor",        "bool",      "break",         "case",
    "catch",        "char",      "char16_t",      "char32_t",
    "char8_t",      "class",     "co_await",      "co_return",
    "co_yield",     "compl",     "concept",       "const",
    "const_cast",   "consteval", "constexpr",     "constinit",
    "continue",     "decltype",  "default",       "delete",
    "do",           "double",    "dynamic_cast",  "else",
    "enum",         "explicit",  "export",        "extern",
    "false",        "float",     "for",           "friend",
    "goto",         "if",        "inline",        "int",
    "long",         "mutable",   "namespace",     "new",
    "noexcept",     "not",       "not_eq",        "nullptr",
    "operator",     "or",        "or_eq",         "private",
    "protected",    "public",    "register",      "reinterpret_cast",
    "requires",     "return",    "short",         "signed",
    "sizeof",       "static",    "static_assert", "static_cast",
    "struct",       "switch",    "template",      "this",
    "thread_local", "throw",     "true",          "try",
    "typedef",      "typeid",    "typename",      "union",
    "unsigned",     "using",     "virtual",       "void",
    "volatile",     "wchar_t",   "while",         "xor",
    "xor_eq",
};

}  // namespace

bool IsCppKeyword(std::string_view name) {
  return std::find(std::begin(kCppKeywords), std::end(kCppKeywords), name) !=
         std::end(kCppKeywords);
}

std::string ResolveKeyword(std::string_view name) {
  std::string resolved(name);
  if (IsCppKeyword(name)) resolved += '_';
  return resolved;
}

std::string FileStem(const google::protobuf::FileDescriptor* file) {
  std::string name = file->name();
  for (std::string_view suffix : {".protodevel", ".proto"}) {
    if (name.ends_with(suffix)) {
      name.resize(name.size() - suffix.size());
      break;
    }
  }
  return name;
}

std::string PbHeaderName(const google::protobuf::FileDescriptor* file) {
  return absl::StrCat(FileStem(file), ".pb.h");
}

std::string KorbHeaderName(const google::protobuf::FileDescriptor* file) {
  return absl::StrCat(FileStem(file), ".korb.h");
}

std::string KorbSourceName(const google::protobuf::FileDescriptor* file) {
  return absl::StrCat(FileStem(file), ".korb.cc");
}

std::string IncludeGuard(const google::protobuf::FileDescriptor* file) {
  std::string guard = absl::StrCat("KORB_GENERATED_", FileStem(file), "_KORB_H_");
  for (char& c : guard) {
    c = absl::ascii_isalnum(static_cast<unsigned char>(c))
            ? absl::ascii_toupper(static_cast<unsigned char>(c))
            : '_';
  }
  return guard;
}

std::string CppNamespace(const google::protobuf::FileDescriptor* file) {
  return absl::StrReplaceAll(file->package(), {{".", "::"}});
}

std::string QualifiedMessageName(const google::protobuf::Descriptor* message) {
  return google::protobuf::compiler::cpp::QualifiedClassName(message);
}

std::string ServantClassName(const google::protobuf::ServiceDescriptor* service) {
  return absl::StrCat(service->name(), "Servant");
}

std::string StubClassName(const google::protobuf::ServiceDescriptor* service) {
  return absl::StrCat(service->name(), "Stub");
}

std::string MethodArrayName(const google::protobuf::ServiceDescriptor* service) {
  return absl::StrCat("korb_", service->name(), "_methods");
}

std::string InterfaceInfoName(const google::protobuf::ServiceDescriptor* service) {
  return absl::StrCat("korb_", service->name(), "_interface");
}

std::string MethodCppName(const google::protobuf::MethodDescriptor* method) {
  return ResolveKeyword(method->name());
}

std::string MethodAsyncName(const google::protobuf::MethodDescriptor* method) {
  return absl::StrCat(method->name(), "Async");
}

std::string GrpcPath(const google::protobuf::MethodDescriptor* method) {
  return absl::StrCat("/", method->service()->full_name(), "/", method->name());
}

}  // namespace korb::idl
