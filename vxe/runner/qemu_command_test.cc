#include "vxe/runner/qemu_command.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil::vxe {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

QemuConfig Config() {
  QemuConfig config;
  config.kernel = "/cache/vmlinux";
  config.init = "/bin/vxe-init";
  config.run_share = "/tmp/run,1/share";
  config.console = "/tmp/run,1/console";
  return config;
}

// The value following `flag` for each occurrence of it.
std::vector<std::string> Values(const std::vector<std::string>& argv,
                                const std::string& flag) {
  std::vector<std::string> values;
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == flag) values.push_back(argv[i + 1]);
  }
  return values;
}

TEST(QemuCommand, BootsVmlinuxOnAReadOnlyHostRootWithInit) {
  const std::vector<std::string> argv = QemuArgv(Config());
  EXPECT_EQ(argv[0], "qemu-system-x86_64");
  EXPECT_EQ(Values(argv, "-kernel"),
            std::vector<std::string>{"/cache/vmlinux"});
  const std::string append = Values(argv, "-append").at(0);
  EXPECT_THAT(append, HasSubstr("root=/dev/root rootfstype=9p"));
  EXPECT_THAT(append, HasSubstr(" ro init=/bin/vxe-init"));
  EXPECT_THAT(append, HasSubstr("console=ttyS0 panic=-1"));
  EXPECT_THAT(Values(argv, "-fsdev"),
              Contains("local,id=root,path=/,security_model=none,readonly=on,"
                       "multidevs=remap"));
  EXPECT_THAT(argv, Contains("-no-reboot"));
  EXPECT_THAT(argv, Contains("isa-debug-exit,iobase=0xf4,iosize=0x04"));
}

TEST(QemuCommand, EscapesCommasInPaths) {
  EXPECT_THAT(
      Values(QemuArgv(Config()), "-fsdev"),
      Contains("local,id=run,path=/tmp/run,,1/share,security_model=none"));
}

TEST(QemuCommand, OneSerialPortForTheConsole) {
  const std::vector<std::string> argv = QemuArgv(Config());
  EXPECT_EQ(
      Values(argv, "-chardev"),
      std::vector<std::string>{"file,id=console,path=/tmp/run,,1/console"});
  EXPECT_EQ(Values(argv, "-serial"),
            std::vector<std::string>{"chardev:console"});
}

TEST(QemuCommand, TcgByDefaultHostCpuOnlyWithKvm) {
  QemuConfig config = Config();
  std::vector<std::string> argv = QemuArgv(config);
  EXPECT_EQ(Values(argv, "-accel"), std::vector<std::string>{"tcg"});
  EXPECT_THAT(argv, Not(Contains("-cpu")));
  config.accel = "kvm";
  config.cpus = 4;
  config.memory_mb = 256;
  argv = QemuArgv(config);
  EXPECT_EQ(Values(argv, "-accel"), std::vector<std::string>{"kvm"});
  EXPECT_EQ(Values(argv, "-cpu"), std::vector<std::string>{"host"});
  EXPECT_EQ(Values(argv, "-smp"),
            std::vector<std::string>{"4,sockets=4,cores=1,threads=1"});
  EXPECT_EQ(Values(argv, "-m"), std::vector<std::string>{"256M"});
}

TEST(QemuCommand, AppendsExtraKernelArguments) {
  QemuConfig config = Config();
  config.extra_kernel_args = "loglevel=8";
  EXPECT_THAT(KernelCommandLine(config), testing::EndsWith(" loglevel=8"));
}

}  // namespace
}  // namespace xehil::vxe
