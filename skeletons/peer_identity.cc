#include "skeletons/peer_identity.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace korb {

std::vector<std::string> PeerIdentity::Principals() const {
  std::vector<std::string> principals;
  if (!verified) return principals;
  if (!common_name.empty()) principals.push_back(absl::StrCat("cn:", common_name));
  for (const std::string& name : dns_names) principals.push_back(absl::StrCat("dns:", name));
  for (const std::string& uri : uris) principals.push_back(absl::StrCat("uri:", uri));
  for (const std::string& email : emails) principals.push_back(absl::StrCat("email:", email));
  for (const std::string& ip : ip_addresses) principals.push_back(absl::StrCat("ip:", ip));
  return principals;
}

}  // namespace korb
