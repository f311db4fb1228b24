#include "config/document_scan.h"

#include <algorithm>
#include <iterator>
#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

namespace sctprelay::config {
namespace {

// Only where documents start matters here; everything else is ignored.
class DocumentStarts : public YAML::EventHandler {
 public:
  YAML::Mark last = YAML::Mark::null_mark();         // where the parser says the latest document starts
  YAML::Mark first_node = YAML::Mark::null_mark();   // where its content does (what a person points at)
  void OnDocumentStart(const YAML::Mark& mark) override {
    last = mark;
    first_node = YAML::Mark::null_mark();
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { node(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { node(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string&) override { node(m); }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(m);
  }
  void OnMapEnd() override {}

 private:
  void node(const YAML::Mark& m) {
    if (first_node.is_null()) first_node = m;
  }
};

}  // namespace

DocumentScan scan_documents(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  DocumentScan scan;
  if (!parser.HandleNextDocument(starts)) return scan;
  const YAML::Mark first = starts.last;
  if (!parser.HandleNextDocument(starts)) return scan;
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
