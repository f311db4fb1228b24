// "--name value" options for the load generator's modes.
#pragma once

#include <map>
#include <string>

namespace loadgen {

class Args {
 public:
  Args(int argc, char** argv, int first);  // parses argv[first..]; dies on a stray word
  std::string str(const std::string& name, const std::string& fallback) const;
  std::string required(const std::string& name) const;
  long num(const std::string& name, long fallback) const;
  double real(const std::string& name, double fallback) const;
  bool flag(const std::string& name) const { return values_.count(name) != 0; }

 private:
  std::map<std::string, std::string> values_;
};

int run_source(const Args& a);
int run_sink(const Args& a);
int run_echo(const Args& a);
int run_latency(const Args& a);
int run_assocs(const Args& a);
int run_soak(const Args& a);
int run_churn(const Args& a);
int run_record_sink(const Args& a);
int run_kstats(const Args& a);

}  // namespace loadgen
