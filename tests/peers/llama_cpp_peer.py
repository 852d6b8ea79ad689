#!/usr/bin/env python3
"""llama.cpp as a test-time peer, fetched from the npm registry into a build folder (never committed).

  llama_cpp_peer.py install --dir build/llama_cpp_peer

leaves there:
  gguf-py/        llama.cpp's own Python GGUF package (reader, writer, NumPy quants), from the source bundle of the
                  npm package node-llama-cpp (llama/gitRelease.bundle, a git bundle of llama.cpp v0.5.0);
  lib/            llama.cpp's prebuilt CPU libraries (libggml-base.so, libggml-cpu-*.so, libllama.so) from
                  @node-llama-cpp/linux-x64;
  include/        llama.h and ggml.h from the same bundle, for drivers built against lib/.
Other scripts import `peer_paths(dir)` to find them, and `import_gguf(dir)` to import gguf-py.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

VERSION = "3.22.1"  # node-llama-cpp, which pins llama.cpp release v0.5.0
SOURCE_PACKAGE = f"node-llama-cpp@{VERSION}"
PREBUILT_PACKAGE = f"@node-llama-cpp/linux-x64@{VERSION}"
DONE_MARK = f".installed-{VERSION}"


def peer_paths(peer_dir):
    return {
        "gguf_py": os.path.join(peer_dir, "gguf-py"),
        "lib": os.path.join(peer_dir, "lib"),
        "include": os.path.join(peer_dir, "include"),
    }


def import_gguf(peer_dir):
    """Imports llama.cpp's gguf package from the peer folder (not from any installed copy)."""
    path = peer_paths(peer_dir)["gguf_py"]
    if not os.path.isdir(path):
        sys.exit(f"{path}: missing; run `llama_cpp_peer.py install --dir {peer_dir}` (the ctest fixture does)")
    sys.path.insert(0, path)
    import gguf  # noqa: E402
    return gguf


def npm_pack(package, into):
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is not installed: the llama.cpp peer comes from the npm registry (scripts/install-deps)")
    out = subprocess.run([npm, "pack", package, "--silent", "--pack-destination", into],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"npm pack {package} failed (is the npm registry reachable?):\n{out.stderr}")
    return os.path.join(into, out.stdout.strip().splitlines()[-1])


def install(peer_dir):
    if os.path.exists(os.path.join(peer_dir, DONE_MARK)):
        print(f"llama.cpp peer already installed in {peer_dir}")
        return
    os.makedirs(peer_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dsmoe_peer_") as tmp:
        source_tgz = npm_pack(SOURCE_PACKAGE, tmp)
        with tarfile.open(source_tgz) as tar:
            member = tar.getmember("package/llama/gitRelease.bundle")
            tar.extractall(tmp, members=[member])
        repo = os.path.join(tmp, "llama.cpp")
        bundle = os.path.join(tmp, "package", "llama", "gitRelease.bundle")
        # Only the paths we use are checked out: gguf-py and the two public headers.
        subprocess.run(["git", "clone", "--quiet", "--no-checkout", bundle, repo], check=True)
        subprocess.run(["git", "-C", repo, "-c", "advice.detachedHead=false", "checkout", "--quiet", "HEAD", "--",
                        "gguf-py", "include/llama.h", "ggml/include"], check=True)
        for name in ("gguf-py", "include"):
            shutil.rmtree(os.path.join(peer_dir, name), ignore_errors=True)
        shutil.copytree(os.path.join(repo, "gguf-py"), os.path.join(peer_dir, "gguf-py"))
        os.makedirs(os.path.join(peer_dir, "include"))
        shutil.copy(os.path.join(repo, "include", "llama.h"), os.path.join(peer_dir, "include"))
        for header in os.listdir(os.path.join(repo, "ggml", "include")):
            shutil.copy(os.path.join(repo, "ggml", "include", header), os.path.join(peer_dir, "include"))

        prebuilt_tgz = npm_pack(PREBUILT_PACKAGE, tmp)
        with tarfile.open(prebuilt_tgz) as tar:
            tar.extractall(os.path.join(tmp, "prebuilt"))
        lib = os.path.join(peer_dir, "lib")
        shutil.rmtree(lib, ignore_errors=True)
        shutil.copytree(os.path.join(tmp, "prebuilt", "package", "bins", "linux-x64"), lib)
    open(os.path.join(peer_dir, DONE_MARK), "w").close()
    print(f"llama.cpp peer (node-llama-cpp {VERSION}) installed in {peer_dir}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("install")
    p.add_argument("--dir", required=True)
    args = parser.parse_args()
    if args.command == "install":
        install(args.dir)


if __name__ == "__main__":
    main()
