"""Project-wide wrappers around the C++ rules: one place for copts.

Warnings are errors for our own code only; Debian's headers are system
headers and never reach these flags.
"""

XEHIL_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-missing-field-initializers",
]

def xehil_cc_library(name, copts = [], **kwargs):
    native.cc_library(name = name, copts = XEHIL_COPTS + copts, **kwargs)

def xehil_cc_binary(name, copts = [], **kwargs):
    native.cc_binary(name = name, copts = XEHIL_COPTS + copts, **kwargs)

def xehil_cc_test(name, copts = [], deps = [], data = [], **kwargs):
    """A gtest target; links gtest_main unless the test brings its own main."""
    native.cc_test(
        name = name,
        copts = XEHIL_COPTS + copts,
        deps = deps + ["@system//:gmock", "@system//:gtest_main"],
        # The TSan suppressions must be in the runfiles for --config=tsan.
        data = data + ["//bazel:tsan.supp"],
        **kwargs
    )
