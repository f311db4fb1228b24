#!/usr/bin/env bash
# The man pages install where man(1) finds them, render, carry the sections a reader looks for, and
# draw no groff warnings.
#
# Usage: tests/man_pages_test.sh BUILD_DIR
#
# Installs only the "man" component (docs/man/CMakeLists.txt) into a temporary prefix: a full
# install would also write outside the prefix (/etc/sctprelayd, the unit and sysusers/sysctl
# directories, systemd-sysusers). Needs man-db and groff-base (tools/install-deps.sh).
set -euo pipefail

build=${1:?usage: tests/man_pages_test.sh BUILD_DIR}
src=$(cd "$(dirname "$0")/.." && pwd)
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

for tool in man groff cmake; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (tools/install-deps.sh installs man-db and groff-base)"; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"  # man may read the pages as its own unprivileged user
prefix=$tmp/prefix
if ! cmake --install "$build" --prefix "$prefix" --component man >"$tmp/install.log" 2>&1; then
  cat "$tmp/install.log"
  echo "FAIL: cmake --install $build --prefix $prefix --component man"
  exit 1
fi
manpath=$prefix/share/man

# The sections every page has, and the ones each page of ours must have besides.
common=("NAME" "SYNOPSIS" "DESCRIPTION" "SEE ALSO")
declare -A extra=(
  [sctprelayd.8]="OPTIONS|SIGNALS|CONTROL SOCKET|SYSTEMD|EXIT STATUS|ENVIRONMENT|FILES|EXAMPLES"
  [sctprelayctl.8]="OPTIONS|COMMANDS|JSON OUTPUT|THE CONTROL SOCKET AND PERMISSIONS|EXIT STATUS|ENVIRONMENT|EXAMPLES"
  [sctprelayd.yaml.5]="VALUE FORMATS|TOP LEVEL|LIMITS|LISTENERS|DESTINATIONS|ROUTES|DEFAULT|CONTROL|METRICS|LOADING|RELOADING|EXAMPLES|FILES"
)
# What a reader of each page will look for in its text.
declare -A words=(
  [sctprelayd.8]="--config|--check|--log-level|SIGHUP|SIGTERM|SIGUSR1|shutdown_drain|Type=notify|/etc/sctprelayd/sctprelayd.yaml"
  [sctprelayctl.8]="status|assocs|routes|destinations|reload|drain|undrain|disconnect|version|--socket|--json|--timeout|--wait|--abort|--listener|--destination|RUNTIME_DIRECTORY|/run/sctprelayd/control.sock"
  [sctprelayd.yaml.5]="max_message_size|max_reassembly_bytes|max_queued_bytes|shutdown_drain|addresses|out_streams|in_streams|allow|max_associations|messages_per_second|oversize|stream_overflow|reconnect|associations|return|listener|match|balance|max_messages|max_bytes|when_full|ttl|from|streams|ppid|set_stream|set_ppid|action|fallback|socket|group|mode|listen|log_level"
)

pages=()
for f in "$src"/docs/man/*; do
  [[ $f =~ \.[1-8]$ ]] && pages+=("$(basename "$f")")
done
for required in sctprelayd.8 sctprelayctl.8 sctprelayd.yaml.5; do
  [[ " ${pages[*]} " == *" $required "* ]] || fail "docs/man/$required is missing"
done

for page in "${pages[@]}"; do
  name=${page%.*}
  section=${page##*.}
  installed=$manpath/man$section/$page
  if [[ ! -s $installed ]]; then
    fail "$page was not installed at $installed"
    continue
  fi

  # man finds the installed page (not another one on the system) and renders it.
  found=$(MANPATH=$manpath man -w "$section" "$name" 2>/dev/null || true)
  [[ $found == "$installed" ]] || fail "man -w $section $name: '$found', expected $installed"
  if ! MANPATH=$manpath MANWIDTH=80 LC_ALL=C.UTF-8 man -P cat "$section" "$name" >"$tmp/$page.txt" 2>"$tmp/$page.err"; then
    fail "man -P cat $section $name failed: $(head -n 3 "$tmp/$page.err")"
    continue
  fi
  # A bare `man NAME` (the way people ask) shows the same page.
  MANPATH=$manpath MANWIDTH=80 LC_ALL=C.UTF-8 man -P cat "$name" >"$tmp/$page.bare" 2>/dev/null ||
    fail "man -P cat $name failed"
  [[ -s $tmp/$page.bare ]] || fail "man -P cat $name rendered nothing"
  lines=$(wc -l <"$tmp/$page.txt")
  [[ $lines -gt 10 ]] || fail "$page renders $lines lines"

  IFS='|' read -r -a headings <<<"${extra[$page]:-}"
  for heading in "${common[@]}" "${headings[@]}"; do
    [[ -z $heading ]] && continue
    grep -qx "$heading" "$tmp/$page.txt" || fail "$page has no section '$heading'"
  done
  IFS='|' read -r -a expected <<<"${words[$page]:-}"
  for word in "${expected[@]}"; do
    [[ -z $word ]] && continue
    grep -qF -- "$word" "$tmp/$page.txt" || fail "$page does not mention '$word'"
  done

  # No warnings of any kind from groff, on the source and through man's own formatting.
  warnings=$(groff -man -ww -z "$src/docs/man/$page" 2>&1 || true)
  [[ -z $warnings ]] || fail "groff -man -ww -z $page: $warnings"
  if grep -qi 'warning' "$tmp/$page.err"; then
    fail "man $section $name: $(grep -i warning "$tmp/$page.err" | head -n 3)"
  fi
  echo "ok: $page ($lines lines at 80 columns)"
done

if ((failures > 0)); then
  echo "man pages: $failures failure(s)"
  exit 1
fi
echo "man pages: ${#pages[@]} pages installed, rendered and warning-free"
