// sctprelayctl's human output: each function takes the daemon's answer (docs/control.md) and
// returns the text to print. Missing scalar fields show as "-"; a missing list or object the
// output cannot do without throws AnswerError (json_view.h). Nothing else throws.
#pragma once

#include <string>

#include "ctl/json_view.h"

namespace sctprelay::ctl {

// status: the daemon, the totals, one line per listener and per destination.
std::string render_status(const json& answer);
// assocs: one row per association with its paths under it, then the recently closed ones.
std::string render_assocs(const json& answer);
// routes: one line per route with its targets under it, the default last.
std::string render_routes(const json& answer);
// destinations: one line per destination.
std::string render_destinations(const json& answer);
// reload, either way: "reload applied: generation N: SUMMARY", or the errors then
// "reload refused: the running configuration stays".
std::string render_reload(const json& answer);
// drain / undrain: what became of the destination.
std::string render_drain(const json& answer, bool drained);
// disconnect: which association, and how.
std::string render_disconnect(const json& answer, bool abort);
// version: the daemon's version line from a status answer.
std::string render_daemon_version(const json& status_answer);

// "no_route 5, queue_full 2" from a drops object: the nonzero reasons, largest first, at most
// `most` of them and "+N more" for the rest; "" when there are none.
std::string drops_text(const json& drops, std::size_t most = 3);
// The sum of a drops object's counts.
uint64_t drops_total(const json& drops);

}  // namespace sctprelay::ctl
