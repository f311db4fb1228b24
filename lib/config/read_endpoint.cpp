// Addresses and stream counts, shared by listeners and peer destinations.
#include <algorithm>

#include "config/document.h"
#include "config/scalars.h"
#include "config/yaml_reader.h"

namespace sctprelay::config {

void read_addresses(Diagnostics& diag, MapReader& map, bool connect, std::vector<std::string>& out,
                    std::vector<Spot>& marks) {
  auto one = map.take("address");
  auto many = map.take("addresses");
  if (one && many) {
    diag.error(one->key_where, one->path, "give either \"address\" or \"addresses\", not both");
    return;
  }
  if (!one && !many) {
    if (map.is_map()) diag.error(map.self().where, map.self().path, "missing required key \"addresses\" (or \"address\")");
    return;
  }
  std::vector<Field> items = one ? std::vector<Field>{*one} : read_list(diag, *many, "IP addresses", true);
  if (one && !one->value.IsScalar()) {
    diag.error(one->where, one->path, "expected one IP address, got " + describe(one->value) + " (use \"addresses\" for several)");
    return;
  }
  for (const Field& item : items) {
    auto addr = read_address(diag, item);
    if (!addr) continue;
    if (std::find(out.begin(), out.end(), *addr) != out.end()) {
      diag.error(item.where, item.path, "address " + *addr + " is listed twice");
      continue;
    }
    if (scalars::is_wildcard(*addr)) {
      if (connect) {
        diag.error(item.where, item.path, "cannot connect to the wildcard address " + *addr + "; give the peer's address");
        continue;
      }
      if (items.size() > 1) {
        diag.error(item.where, item.path, "the wildcard address " + *addr + " already covers every local address; list it alone");
        continue;
      }
    }
    out.push_back(*addr);
    marks.push_back(Spot{item.where, item.path});
  }
}

void read_streams(Diagnostics& diag, MapReader& map, uint16_t& out_streams, uint16_t& in_streams) {
  auto both = map.take("streams");
  auto out = map.take("out_streams");
  auto in = map.take("in_streams");
  if (both && (out || in)) {
    diag.error(both->key_where, both->path,
               "\"streams\" sets both directions; give either it or \"out_streams\"/\"in_streams\", not both");
  }
  if (both) {
    if (auto v = read_uint(diag, *both, 1, 65535)) out_streams = in_streams = static_cast<uint16_t>(*v);
  }
  if (out) {
    if (auto v = read_uint(diag, *out, 1, 65535)) out_streams = static_cast<uint16_t>(*v);
  }
  if (in) {
    if (auto v = read_uint(diag, *in, 1, 65535)) in_streams = static_cast<uint16_t>(*v);
  }
}

void read_required_name(Diagnostics& diag, MapReader& map, Document& doc, std::string& out, Spot& mark) {
  auto name = map.require("name");
  if (name) mark = Spot{name->where, name->path};
  if (auto n = name ? read_name(diag, *name) : std::nullopt) out = *n;
  else doc.names_complete = false;
}

void read_prefixes(Diagnostics& diag, const Field& f, std::vector<Prefix>& out) {
  for (const Field& item : read_list(diag, f, "address prefixes", true)) {
    auto text = read_text(diag, item, "an address prefix such as 10.0.0.0/8");
    if (!text) continue;
    auto p = scalars::parse_prefix(*text);
    if (!scalars::ok(p)) {
      diag.error(item.where, item.path, scalars::error(p));
      continue;
    }
    out.push_back(scalars::value(p));
  }
}

}  // namespace sctprelay::config
