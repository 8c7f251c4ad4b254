"""Which top-level packages may depend on which: the layering of README
"Layering", checked on every target the xehil_cc_* macros make, so a
forbidden dependency fails the build at loading time, naming both ends.

Written in the subset of Starlark that is also Python, so that
//bazel:layering_test can load it and check the rules themselves.
"""

# Top-level package -> the top-level packages its targets may depend on.
# Packages not listed (tools, vxe, hwtest, bench, examples, scenarios) sit at
# the top and may use anything below them.
LAYERS = {
    # The backend-agnostic core: UAPI, device client, listener, engine,
    # runner. Nothing about any particular backend or tool.
    "core": ["core", "proto", "bazel"],
    # Shared program plumbing (flags, child processes for tests).
    "common": ["common", "core", "bazel"],
    # The simulated kernel and its daemons; vxe for the driver's control
    # ABI header, examples for the raw-UAPI programs its tests run.
    "sim": ["sim", "core", "common", "proto", "bazel", "vxe", "examples"],
    # The environment registry: every backend, no tools.
    "environment": ["environment", "sim", "core", "common", "proto", "bazel"],
    # The core's own tests against the simulator.
    "integration": ["integration", "environment", "sim", "core", "common",
                    "proto", "bazel"],
    "proto": ["proto"],
}

def _top_package(label, package):
    """The top-level package `label` names, or None for an external one."""
    if label.startswith("@"):
        return None
    if label.startswith("//"):
        return label[2:].split(":")[0].split("/")[0]
    return package.split("/")[0]

def layering_violations(package, labels):
    """One message per label that the package `package` may not depend on."""
    top = package.split("/")[0]
    allowed = LAYERS.get(top)
    if allowed == None:
        return []
    found = []
    for label in labels:
        dep = _top_package(label, package)
        if dep != None and dep not in allowed:
            found.append(
                "//%s may not depend on %s: //%s is not below //%s " % (
                    package,
                    label,
                    dep,
                    top,
                ) + "(bazel/layering.bzl, README \"Layering\")",
            )
    return found
