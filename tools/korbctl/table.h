// korb::ctl::Table: columns aligned for a terminal, as korbctl prints them.
//
// Thread-compatible.
//
// Usage:
//   Table table({"ADAPTER", "STATE"});
//   table.AddRow({"bank", "active"});
//   table.Print(std::cout);
#ifndef KORB_TOOLS_KORBCTL_TABLE_H_
#define KORB_TOOLS_KORBCTL_TABLE_H_

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

namespace korb::ctl {

class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }

  // Missing cells print empty; extra ones are dropped.
  void AddRow(std::vector<std::string> row) {
    row.resize(rows_.front().size());
    rows_.push_back(std::move(row));
  }

  void Print(std::ostream& out) const {
    std::vector<size_t> widths(rows_.front().size(), 0);
    for (const auto& row : rows_) {
      for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    }
    for (const auto& row : rows_) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        line += row[i];
        if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
      }
      out << line << "\n";
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace korb::ctl

#endif  // KORB_TOOLS_KORBCTL_TABLE_H_
