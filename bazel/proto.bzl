"""C++ code generation from .proto files with Debian's protoc (offline).

Bazel 4.2's native proto rules would download protobuf's sources; Debian ships
protoc, grpc_cpp_plugin and the runtime libraries, so a genrule does the job.
"""

def xehil_proto_library(name, srcs, proto_deps = [], deps = [], grpc = False,
                        visibility = None):
    """A cc_library with the generated code for `srcs`.

    Args:
      name: the cc_library.
      srcs: .proto files of this package.
      proto_deps: other xehil_proto_library targets whose .proto files `srcs`
        import (their generated code is linked through `deps` too).
      deps: extra cc deps.
      grpc: also generate gRPC service stubs.
      visibility: as usual.
    """
    bases = [s[:-len(".proto")] for s in srcs]
    outs = [b + ".pb.h" for b in bases] + [b + ".pb.cc" for b in bases]
    if grpc:
        outs += [b + ".grpc.pb.h" for b in bases] + [b + ".grpc.pb.cc" for b in bases]
    dep_protos = [d + "_protos" for d in proto_deps]
    native.filegroup(name = name + "_protos", srcs = srcs + dep_protos)

    # Inside another workspace (local_repository(name = "xehil", ...)) the
    # sources are under external/xehil: that is the import root, and the
    # output root, so the generated code still says "proto/x.pb.h".
    repo = native.repository_name().lstrip("@")
    root = "external/" + repo if repo else "."
    out = "$(GENDIR)/external/" + repo if repo else "$(GENDIR)"
    cmd = "protoc --proto_path=%s --cpp_out=%s" % (root, out)
    if grpc:
        cmd += (" --grpc_out=%s" % out +
                " --plugin=protoc-gen-grpc=$$(command -v grpc_cpp_plugin)")
    native.genrule(
        name = name + "_gen",
        srcs = srcs + dep_protos,
        outs = outs,
        cmd = cmd + " " + " ".join(["$(location %s)" % s for s in srcs]),
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = proto_deps + deps + ["@system//:protobuf"] +
               (["@system//:grpc"] if grpc else []),
        visibility = visibility,
    )
