#!/usr/bin/env python3
"""Checks the layering rules of bazel/layering.bzl, which the build applies
to every xehil_cc_* target: the forbidden dependencies the issue names are
refused, the ones the tree uses are allowed."""
import os
import unittest


def load_layering():
    path = os.path.join(os.environ["TEST_SRCDIR"], os.environ["TEST_WORKSPACE"],
                        "bazel", "layering.bzl")
    scope = {}
    with open(path) as f:
        exec(compile(f.read(), path, "exec"), scope)
    return scope["layering_violations"]


class LayeringTest(unittest.TestCase):

    def setUp(self):
        self.violations = load_layering()

    def test_core_may_not_use_sim_tools_or_the_registry(self):
        for dep in ["//sim:device", "//tools/xehil:backend_select",
                    "//environment:registry", "//integration/recovery:x",
                    "//common:flags"]:
            found = self.violations("core/scenario", [dep])
            self.assertEqual(len(found), 1, dep)
            self.assertIn("//core/scenario may not depend on " + dep, found[0])

    def test_core_may_use_core_proto_and_debian(self):
        self.assertEqual(self.violations("core/scenario", [
            ":runner", "//core/base:errno_status", "//proto:scenario_cc_proto",
            "@system//:absl", "internal/setup.h"]), [])

    def test_sim_may_not_use_tools_or_the_registry(self):
        self.assertEqual(len(self.violations("sim/simd", [
            "//tools/agent:child_process", "//environment:registry"])), 2)
        self.assertEqual(self.violations("sim/simd", [
            "//common:flags", "//vxe/driver:vxe_ctl", "//core/uapi"]), [])

    def test_registry_may_not_use_tools(self):
        self.assertEqual(len(self.violations("environment",
                                             ["//tools/xehil:x"])), 1)
        self.assertEqual(self.violations("environment",
                                         ["//sim/simd:remote_backend"]), [])

    def test_top_level_packages_may_use_anything(self):
        self.assertEqual(self.violations("tools/xehil", [
            "//environment:registry", "//sim/simd:client"]), [])


if __name__ == "__main__":
    unittest.main()
