// A first pass over YAML text that counts its documents without building them, and stops where
// the parser stops making progress. yaml-cpp 0.7's LoadAll never returns on some malformed input
// (a stray ',' at the top level, e.g. ", 1m)"): its parser reports the same empty document at the
// same place again and again, and LoadAll keeps every copy. This pass reads at most two documents
// and notices a document that starts where the previous one did.
// It also counts the nodes that aliases (*name) repeat: each is read again wherever it is used, so
// a few kilobytes of aliases to aliases can stand for millions of nodes and keep the reader busy
// for minutes. Past kMaxAliasedNodes it stops there.
#pragma once

#include <cstddef>
#include <string>

#include <yaml-cpp/mark.h>

namespace sctprelay::config {

// More nodes repeated through aliases than any configuration needs.
constexpr std::size_t kMaxAliasedNodes = 100000;

struct DocumentScan {
  enum class Outcome {
    One,       // zero or one document: load it
    Several,   // a second document starts at `where`
    Stuck,     // the parser cannot get past `where`
    Aliases,   // with the alias at `where`, aliases repeat more than kMaxAliasedNodes nodes
  };
  Outcome outcome = Outcome::One;
  YAML::Mark where = YAML::Mark::null_mark();
};

// Throws what yaml-cpp's parser throws (YAML::ParserException) for a syntax error.
DocumentScan scan_documents(const std::string& text);

}  // namespace sctprelay::config
