#include "ctl/table.h"

#include <algorithm>

namespace sctprelay::ctl {

namespace {

constexpr std::size_t kGap = 2;  // spaces between columns

// Display width: UTF-8 continuation bytes take no column (names are ASCII, errors may not be).
std::size_t width(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

Table::Table(std::vector<Column> columns, std::string indent)
    : columns_(std::move(columns)), indent_(std::move(indent)) {}

void Table::add(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::vector<std::size_t> Table::widths() const {
  std::vector<std::size_t> w(columns_.size(), 0);
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    w[c] = width(columns_[c].title);
    for (const auto& row : rows_) w[c] = std::max(w[c], width(row[c]));
  }
  return w;
}

std::string Table::line(const std::vector<std::string>& cells) const {
  const auto w = widths();
  std::string out = indent_;
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    const std::string& cell = cells[c];
    const std::size_t pad = w[c] - width(cell);
    if (columns_[c].align == Align::Right) out.append(pad, ' ');
    out += cell;
    if (c + 1 < columns_.size()) {
      if (columns_[c].align == Align::Left) out.append(pad, ' ');
      out.append(kGap, ' ');
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  out += '\n';
  return out;
}

std::string Table::header_line() const {
  bool any = std::any_of(columns_.begin(), columns_.end(), [](const Column& c) { return !c.title.empty(); });
  if (!any) return {};
  std::vector<std::string> titles;
  for (const auto& c : columns_) titles.push_back(c.title);
  return line(titles);
}

std::string Table::row_line(std::size_t i) const { return i < rows_.size() ? line(rows_[i]) : std::string(); }

std::string Table::render() const {
  std::string out = header_line();
  for (const auto& row : rows_) out += line(row);
  return out;
}

}  // namespace sctprelay::ctl
