// The loader's working state: the Config being built plus where each cross-referenced value
// came from, so checks across sections (names, references, address clashes) can point at it.
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/diagnostics.h"
#include "config/yaml_reader.h"

namespace sctprelay::config {

// A value's position and path, e.g. {14:9, "routes[1].to"}.
struct Spot {
  Position where;
  std::string path;
};

struct ListenerMarks {
  Spot name;
  std::vector<Spot> addresses;  // parallel to Listener::addresses
};

struct DestinationMarks {
  Spot name;
  Spot listener;                // kind: group, when `listener` is given
  std::vector<Spot> addresses;  // parallel to Destination::addresses
};

struct RouteMarks {
  Spot name;  // path empty when the route has no name
  Spot from;
  std::vector<Spot> to;  // parallel to Route::to
};

struct DefaultMarks {
  Spot to;
};

struct Document {
  Config config;
  std::vector<ListenerMarks> listener_marks;        // parallel to config.listeners
  std::vector<DestinationMarks> destination_marks;  // parallel to config.destinations
  std::vector<RouteMarks> route_marks;              // parallel to config.routes
  DefaultMarks default_marks;
  Position root;
  // False when some listener/destination name could not be read: "unknown name" errors would
  // then only repeat that problem, so they are not reported.
  bool names_complete = true;
};

// Section readers (one per file). Each appends what it could read to `doc` and reports the rest.
void read_document(Diagnostics& diag, const YAML::Node& root, Document& doc);
void read_listener(Diagnostics& diag, const Field& item, Document& doc);
void read_destination(Diagnostics& diag, const Field& item, Document& doc);
void read_route(Diagnostics& diag, const Field& item, size_t index, Document& doc);
// read_control.cpp: the control socket and the metrics endpoint.
void read_control(Diagnostics& diag, const Field& f, Control& out);
void read_metrics(Diagnostics& diag, const Field& f, Metrics& out);

// Shared pieces of listeners and peer destinations.
// The required `name`: its value and position; a missing or bad one marks the names incomplete.
void read_required_name(Diagnostics& diag, MapReader& map, Document& doc, std::string& out, Spot& mark);
// `address` (one) or `addresses` (a list): canonical texts and their positions.
void read_addresses(Diagnostics& diag, MapReader& map, bool connect, std::vector<std::string>& out,
                    std::vector<Spot>& marks);
// A list of address prefixes ("10.0.0.0/8", "fd00::/8", "192.0.2.7"); `what` names the list.
void read_prefixes(Diagnostics& diag, const Field& f, std::vector<Prefix>& out);
// `streams` (both directions) or `out_streams` / `in_streams`.
void read_streams(Diagnostics& diag, MapReader& map, uint16_t& out_streams, uint16_t& in_streams);

// Checks across sections: unique names, references, listener address clashes.
void check_references(Diagnostics& diag, Document& doc);

}  // namespace sctprelay::config
