#include "config/document_scan.h"

#include <algorithm>
#include <iterator>
#include <sstream>
#include <unordered_map>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

namespace sctprelay::config {
namespace {

// Thrown by the handler to stop the parser at an alias that repeats too much.
struct TooManyAliasedNodes {
  YAML::Mark where;
};

// Where documents start, and how many nodes aliases repeat; everything else is ignored.
class DocumentStarts : public YAML::EventHandler {
 public:
  YAML::Mark last = YAML::Mark::null_mark();         // where the parser says the latest document starts
  YAML::Mark first_node = YAML::Mark::null_mark();   // where its content does (what a person points at)
  void OnDocumentStart(const YAML::Mark& mark) override {
    last = mark;
    first_node = YAML::Mark::null_mark();
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t anchor) override { leaf(m, anchor); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t anchor) override {
    node(m);
    // An alias to a node still open (itself, or a collection it is in) repeats nothing yet.
    auto it = sizes_.find(anchor);
    const std::size_t size = it == sizes_.end() ? 1 : it->second;
    aliased_ += size;
    if (aliased_ > kMaxAliasedNodes) throw TooManyAliasedNodes{m};
    add(size);
  }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor, const std::string&) override {
    leaf(m, anchor);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(m, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(m, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Open {
    YAML::anchor_t anchor;
    std::size_t size;  // nodes in it so far, itself and what its aliases repeat included
  };
  std::vector<Open> open_;                                // collections being read, innermost last
  std::unordered_map<YAML::anchor_t, std::size_t> sizes_;  // anchored nodes' sizes
  std::size_t aliased_ = 0;                               // nodes repeated through aliases so far

  void node(const YAML::Mark& m) {
    if (first_node.is_null()) first_node = m;
  }
  void add(std::size_t size) {
    if (!open_.empty()) open_.back().size += size;
  }
  void leaf(const YAML::Mark& m, YAML::anchor_t anchor) {
    node(m);
    if (anchor != YAML::NullAnchor) sizes_[anchor] = 1;
    add(1);
  }
  void open(const YAML::Mark& m, YAML::anchor_t anchor) {
    node(m);
    open_.push_back({anchor, 1});
  }
  void close() {
    if (open_.empty()) return;
    const Open done = open_.back();
    open_.pop_back();
    if (done.anchor != YAML::NullAnchor) sizes_[done.anchor] = done.size;
    add(done.size);
  }
};

}  // namespace

DocumentScan scan_documents(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  DocumentScan scan;
  YAML::Mark first = YAML::Mark::null_mark();
  try {
    if (!parser.HandleNextDocument(starts)) return scan;
    first = starts.last;
    if (!parser.HandleNextDocument(starts)) return scan;
  } catch (const TooManyAliasedNodes& e) {
    scan.outcome = DocumentScan::Outcome::Aliases;
    scan.where = e.where;
    return scan;
  }
  if (starts.last.pos <= first.pos) {
    scan.outcome = DocumentScan::Outcome::Stuck;
    scan.where = starts.last;
    // The parser's line and column are not kept up to date here; its position is.
    const auto end = text.begin() + std::min<std::ptrdiff_t>(scan.where.pos, static_cast<std::ptrdiff_t>(text.size()));
    const auto line_start = std::find(std::make_reverse_iterator(end), text.rend(), '\n').base();
    scan.where.line = static_cast<int>(std::count(text.begin(), end, '\n'));
    scan.where.column = static_cast<int>(end - line_start);
  } else {
    scan.outcome = DocumentScan::Outcome::Several;
    scan.where = starts.first_node.is_null() ? starts.last : starts.first_node;
  }
  return scan;
}

}  // namespace sctprelay::config
