// One `listeners:` item: where the relay accepts associations.
#include "config/document.h"

namespace sctprelay::config {

void read_listener(Diagnostics& diag, const Field& item, Document& doc) {
  MapReader map(diag, item, "a listener");
  if (!map.is_map()) return;
  Listener l;
  ListenerMarks marks;
  l.where = item.where;

  read_required_name(diag, map, doc, l.name, marks.name);

  read_addresses(diag, map, false, l.addresses, marks.addresses);
  if (auto port = map.require("port")) {
    if (auto v = read_uint(diag, *port, 1, 65535)) l.port = static_cast<uint16_t>(*v);
  }
  read_streams(diag, map, l.out_streams, l.in_streams);
  if (auto f = map.take("oversize")) {
    if (auto p = read_choice<OversizePolicy>(diag, *f, {{"abort", OversizePolicy::Abort}, {"drop", OversizePolicy::Drop}}))
      l.oversize = *p;
  }
  map.finish({"name", "address", "addresses", "port", "streams", "out_streams", "in_streams", "oversize"});

  doc.config.listeners.push_back(std::move(l));
  doc.listener_marks.push_back(std::move(marks));
}

}  // namespace sctprelay::config
