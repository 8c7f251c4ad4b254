"""Project-wide wrappers around the C++ rules: one place for copts and for
the layering check (layering.bzl).

Warnings are errors for our own code only; Debian's headers are system
headers and never reach these flags.
"""

load("//bazel:layering.bzl", "layering_violations")

XEHIL_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-missing-field-initializers",
] + select({
    # clang only (--config=tsa compiles with clang): the lock contracts
    # written with Abseil's annotations (absl/base/thread_annotations.h).
    # -beta checks ABSL_ACQUIRED_AFTER/BEFORE (lock order) too.
    "//bazel:thread_safety": [
        "-Wthread-safety",
        "-Wthread-safety-beta",
        "-Werror=thread-safety",
        "-Werror=thread-safety-beta",
    ],
    "//conditions:default": [],
})

# The sanitizer runtime of --config=asan|tsan|ubsan, linked into every
# dynamic binary and test (the configs compile with -fsanitize=...).
SANITIZER_LINKOPTS = select({
    "//bazel:asan": ["-fsanitize=address"],
    "//bazel:tsan": ["-fsanitize=thread"],
    "//bazel:ubsan": ["-fsanitize=undefined"],
    "//conditions:default": [],
})

# Debian's Abseil is not built with TSan: under --config=tsan every test and
# dynamic binary links the shim that shows absl::Mutex to it.
SANITIZER_DEPS = select({
    "//bazel:tsan": ["//bazel:tsan_absl_mutex"],
    "//conditions:default": [],
})

# A static binary (the vxe guest's init and probes, the static example)
# cannot carry a sanitizer runtime: its sources are compiled uninstrumented
# in the sanitizer configs (.bazelrc's per_file_copt) and it links without.
STATIC_LINKOPTS = ["-static"]

def _check_layering(name, labels):
    """Fails loading when a target depends on a package above its own."""
    found = layering_violations(
        native.package_name(),
        [label for label in labels if type(label) == "string"],
    )
    if found:
        fail("\n".join(["%s: %s" % (name, message) for message in found]))

def _labels(kwargs, attributes):
    labels = []
    for attribute in attributes:
        value = kwargs.get(attribute, [])
        if type(value) == "list":
            labels.extend(value)
    return labels

def xehil_cc_library(name, copts = [], **kwargs):
    _check_layering(name, _labels(kwargs, ["deps", "data", "srcs", "hdrs"]))
    native.cc_library(name = name, copts = XEHIL_COPTS + copts, **kwargs)

def xehil_cc_binary(name, copts = [], linkopts = [], deps = [], **kwargs):
    """A binary; static (linkopts = STATIC_LINKOPTS) without a sanitizer.

    A shared library (linkshared) gets the sanitizer's flags but not the
    Abseil shim: the program that loads it brings its own.
    """
    _check_layering(name, _labels(dict(kwargs, deps = deps), ["deps", "data", "srcs"]))
    if "-static" not in linkopts:
        linkopts = linkopts + SANITIZER_LINKOPTS
        if not kwargs.get("linkshared"):
            deps = deps + SANITIZER_DEPS
    native.cc_binary(
        name = name,
        copts = XEHIL_COPTS + copts,
        linkopts = linkopts,
        deps = deps,
        **kwargs
    )

def xehil_cc_test(name, copts = [], deps = [], data = [], linkopts = [], **kwargs):
    """A gtest target; links gtest_main unless the test brings its own main."""
    _check_layering(name, deps + data + _labels(kwargs, ["srcs"]))
    native.cc_test(
        name = name,
        copts = XEHIL_COPTS + copts,
        linkopts = linkopts + SANITIZER_LINKOPTS,
        deps = deps + ["@system//:gmock", "@system//:gtest_main"] +
               SANITIZER_DEPS,
        # The TSan suppressions must be in the runfiles for --config=tsan.
        data = data + ["//bazel:tsan.supp"],
        **kwargs
    )
