#!/usr/bin/python3
"""`cmake --install` and a program outside the tree: installs the build into a temporary prefix, then compiles
examples/stream_reply.cpp (C++) and tests/capi/check_c_api.c (C) with nothing but `pkg-config dsmoe`, links them to
the installed libdsmoe.so, and runs them: the example's reply must be byte for byte the in-tree example's, and the
C test must pass tests/capi/check_c_api.py against the installed dsmoe binary.

Usage: /usr/bin/python3 tests/install/check_install.py --build DIR --stream-reply BIN
"""
import argparse
import os
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED = os.path.join(ROOT, "models", "dsmoe-kjv-9m")


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, **kwargs)
    if result.returncode != 0:
        sys.exit(f"FAIL {' '.join(map(shlex.quote, command))} ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", required=True)
    parser.add_argument("--stream-reply", required=True, help="the in-tree examples/stream_reply")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as prefix:
        run(["cmake", "--install", args.build, "--prefix", prefix])
        libdir = next(os.path.join(prefix, d) for d in ("lib", "lib64", "lib/x86_64-linux-gnu")
                      if os.path.exists(os.path.join(prefix, d, "pkgconfig", "dsmoe.pc")))
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(libdir, "pkgconfig"))
        flags = run(["pkg-config", "--cflags", "--libs", "dsmoe"], env=env).stdout.split()
        print("ok   installed; pkg-config dsmoe: " + " ".join(flags))
        rpath = f"-Wl,-rpath,{libdir}"

        reply = os.path.join(prefix, "stream_reply")
        run(["c++", "-std=c++20", "-O1", os.path.join(ROOT, "examples", "stream_reply.cpp"), "-o", reply,
             f'-DDSMOE_SHIPPED_MODEL="{SHIPPED}"', *flags, rpath], env=env)
        linked = run(["ldd", reply]).stdout
        if os.path.join(libdir, "libdsmoe.so") not in linked:
            sys.exit(f"FAIL stream_reply is not linked to the installed libdsmoe.so:\n{linked}")
        outside, inside = run([reply]).stdout, run([args.stream_reply]).stdout
        if outside != inside:
            sys.exit(f"FAIL the installed library's reply differs from the in-tree one:\n{outside!r}\n{inside!r}")
        print(f"ok   examples/stream_reply built outside the tree streams the same reply ({len(outside)} bytes)")

        c_test = os.path.join(prefix, "check_c_api")
        run(["cc", "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror", os.path.join(ROOT, "tests", "capi",
             "check_c_api.c"), "-o", c_test, *[f for f in flags if not f.startswith("-I/usr/include/nlohmann")],
             rpath], env=env)
        checked = run(["/usr/bin/python3", os.path.join(ROOT, "tests", "capi", "check_c_api.py"), "--check-c-api",
                       c_test, "--dsmoe", os.path.join(prefix, "bin", "dsmoe")])
        print(checked.stdout, end="")
        print("ok   the C API test passes on the installed library and binary")


if __name__ == "__main__":
    main()
