// sctp-loadgen: the benchmark's traffic source, sink, echo server, latency client and
// many-associations client. Results are printed as one JSON object per line on stdout.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "args.h"
#include "net.h"

namespace loadgen {

Args::Args(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    std::string word = argv[i];
    if (word.rfind("--", 0) != 0) die("unexpected argument '%s'", word.c_str());
    word = word.substr(2);
    auto eq = word.find('=');
    if (eq != std::string::npos) {
      values_[word.substr(0, eq)] = word.substr(eq + 1);
    } else if (i + 1 < argc && std::strncmp(argv[i + 1], "--", 2) != 0) {
      values_[word] = argv[++i];
    } else {
      values_[word] = std::string(1, '1');  // (a literal here trips GCC 12 -O3 -Wrestrict)
    }
  }
}

std::string Args::str(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

std::string Args::required(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) die("--%s is required", name.c_str());
  return it->second;
}

long Args::num(const std::string& name, long fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  char* end = nullptr;
  long v = std::strtol(it->second.c_str(), &end, 10);
  if (*end != '\0') die("--%s: not a number: '%s'", name.c_str(), it->second.c_str());
  return v;
}

double Args::real(const std::string& name, double fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : std::strtod(it->second.c_str(), nullptr);
}

}  // namespace loadgen

namespace {

void usage() {
  std::fputs(
      "usage: sctp-loadgen MODE [--option value]...\n"
      "  source  --to H:P --count N --size S [--streams K] [--ppid P] [--timeout SEC] [--blocked-ms MS]\n"
      "          [--start-delay-ms MS] [--hold] [--id N] [--rate MSGS_PER_S] [--wait-start] [--bundle B]\n"
      "          (SIGUSR1: stop sending, close, print the result; --hold: after the last message,\n"
      "           wait for SIGUSR1 before closing; --wait-start: once connected, wait for SIGUSR2\n"
      "           before the first message)\n"
      "  sink    --port P --count N [--bytes B] [--rate MSGS_PER_S] [--ppid P] [--timeout SEC] [--idle SEC]\n"
      "          [--hold] [--buffer BYTES] [--peel]   (--peel: a socket per association; SIGUSR1: lift --rate; --hold: after the result, wait for SIGUSR2\n"
      "          before closing)\n"
      "  echo    --port P                      (until SIGTERM)\n"
      "  latency --to H:P --count N --size S [--outstanding M] [--warmup W] [--timeout SEC]\n"
      "  assocs  --to H:P --count K [--size S] [--window W] [--timeout SEC]\n"
      "          (opens K associations, one echo round trip each, prints 'ready', holds them\n"
      "           idle until stdin closes or says anything, then closes them)\n"
      "  soak    --to H:P --assocs K --rate MSGS_PER_S --duration SEC [--size S] [--streams N] [--id-base B]\n"
      "          (K associations sending together, paced to the aggregate rate, then a graceful close)\n"
      "  churn   --to H:P --count N [--parallel P] [--id-base B] [--id-step D]\n"
      "          (N associations, P at a time, one message each; even ones close (SHUTDOWN), odd ones\n"
      "           ABORT (SO_LINGER 0) once the message is acknowledged)\n"
      "  record-sink --port P --record FILE [--capacity RECORDS]\n"
      "          (until killed; every message read is appended to the memory-mapped FILE)\n"
      "  kstats  --pid PID --fd FD [--kill] [--drain]   (DATA chunks another process's socket took in,\n"
      "          per association; --kill: kill -9 it first, counts taken at the socket's end;\n"
      "          --drain: take out and list the messages it has not read)\n",
      stderr);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage();
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string mode = argv[1];
  loadgen::Args args(argc, argv, 2);
  if (mode == "source") return loadgen::run_source(args);
  if (mode == "sink") return loadgen::run_sink(args);
  if (mode == "echo") return loadgen::run_echo(args);
  if (mode == "latency") return loadgen::run_latency(args);
  if (mode == "assocs") return loadgen::run_assocs(args);
  if (mode == "soak") return loadgen::run_soak(args);
  if (mode == "churn") return loadgen::run_churn(args);
  if (mode == "record-sink") return loadgen::run_record_sink(args);
  if (mode == "kstats") return loadgen::run_kstats(args);
  usage();
  return 2;
}
