// net.core.wmem_max learnt from a socket (where the unit's ProcSubset=pid hides /proc/sys) is the
// number /proc/sys gives where it can be read.
#include <gtest/gtest.h>

#include "config/buffer_limits.h"

namespace sctprelay::config {
namespace {

TEST(WmemMaxProbe, AgreesWithProcSys) {
  auto from_proc = read_sysctl_number(kWmemMaxPath);
  if (!from_proc) GTEST_SKIP() << kWmemMaxPath << " cannot be read here";
  auto probed = probe_wmem_max();
  ASSERT_TRUE(probed.has_value());
  EXPECT_EQ(*probed, *from_proc);
}

}  // namespace
}  // namespace sctprelay::config
