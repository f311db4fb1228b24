// Entry points: YAML text in, validated Config or every problem found out.
#include "config/loader.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "config/diagnostics.h"
#include "config/document_scan.h"
#include "config/document.h"

namespace sctprelay::config {

LoadResult load_string(const std::string& yaml_text, const std::string& name) {
  Diagnostics diag(name);
  LoadResult result;
  YAML::Node root;
  try {
    const DocumentScan scan = scan_documents(yaml_text);
    if (scan.outcome == DocumentScan::Outcome::Stuck) {
      const std::size_t at = static_cast<std::size_t>(scan.where.pos);
      std::string what = at < yaml_text.size() ? std::string("'") + yaml_text[at] + "'" : "this";
      diag.error(diag.at(scan.where), "",
                 "YAML syntax error: cannot read past " + what +
                     " (a ',', ']' or '}' outside a [...] or {...} list?)");
      result.errors = diag.take_sorted();
      return result;
    }
    if (scan.outcome == DocumentScan::Outcome::Aliases) {
      std::string what = "aliases repeat more than ";  // appended: GCC 12 -O3 warns on "…" + string&&
      what += std::to_string(kMaxAliasedNodes);
      what += " nodes of the file (each *alias is read again wherever it is used)";
      diag.error(diag.at(scan.where), "", what);
      result.errors = diag.take_sorted();
      return result;
    }
    if (scan.outcome == DocumentScan::Outcome::Several) {
      diag.error(diag.at(scan.where), "",
                 "the file holds more than one YAML document; the configuration must be exactly one "
                 "(remove the extra \"---\")");
      result.errors = diag.take_sorted();
      return result;
    }
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    diag.error(diag.at(e.mark), "", "YAML syntax error: " + e.msg);
    result.errors = diag.take_sorted();
    return result;
  } catch (const YAML::Exception& e) {  // e.g. nesting too deep
    diag.error(diag.at(e.mark), "", "cannot read YAML: " + e.msg);
    result.errors = diag.take_sorted();
    return result;
  }

  Document doc;
  try {
    read_document(diag, root, doc);
    check_references(diag, doc);
  } catch (const YAML::Exception& e) {  // not expected: the readers check types before converting
    diag.error(diag.at(e.mark), "", "cannot read YAML: " + e.msg);
  }
  if (diag.has_errors()) result.errors = diag.take_sorted();
  else result.config = std::move(doc.config);
  return result;
}

LoadResult load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    LoadResult result;
    result.errors.push_back(ConfigError{Position{path}, "", std::string("cannot open: ") + std::strerror(err)});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    LoadResult result;
    result.errors.push_back(ConfigError{Position{path}, "", "cannot read the file"});
    return result;
  }
  return load_string(text.str(), path);
}

}  // namespace sctprelay::config
