// Aligned text columns for sctprelayctl's tables: widths are computed from the cells, numbers are
// right-aligned, and no line ends in spaces.
#pragma once

#include <string>
#include <vector>

namespace sctprelay::ctl {

class Table {
 public:
  enum class Align { Left, Right };
  struct Column {
    std::string title;  // empty titles everywhere: no header line
    Align align = Align::Left;
  };

  explicit Table(std::vector<Column> columns, std::string indent = "");

  // A row: cells beyond the columns are dropped, missing ones are empty.
  void add(std::vector<std::string> cells);
  std::size_t rows() const { return rows_.size(); }

  // The header (when any column has a title) and every row, each ending in '\n'.
  std::string render() const;
  // The header line alone / row i alone, aligned with the whole table (for tables whose rows are
  // interleaved with other lines).
  std::string header_line() const;
  std::string row_line(std::size_t i) const;

 private:
  std::string line(const std::vector<std::string>& cells) const;
  std::vector<std::size_t> widths() const;

  std::vector<Column> columns_;
  std::string indent_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace sctprelay::ctl
