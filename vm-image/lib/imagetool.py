#!/usr/bin/env python3
"""Helpers of vm-image/build that are easier in Python than in bash.

  imagetool.py modules KVER LIST STAGING   resolve LIST (vm-image/modules.list) against
      /lib/modules/KVER, copy the .ko files into STAGING/lib/modules/KVER, write
      STAGING/etc/berth/modules (load order) and a trimmed modules.dep/.alias/.builtin
      for busybox modprobe; print the load order.
  imagetool.py cpio STAGING OUT EPOCH      pack STAGING as a reproducible newc cpio (gzip if OUT ends in .gz).
  imagetool.py manifest OUT INFO.json      write OUT/manifest.json from INFO plus the
      sha256 and size of every file in OUT.

Python 3 standard library only, like images/hello/build.
"""

import gzip
import hashlib
import json
import os
import shutil
import stat
import sys


def module_name(path):
    """The kernel's name for a module file: basename without .ko, dashes as underscores."""
    base = os.path.basename(path)
    for ext in (".ko", ".ko.xz", ".ko.zst", ".ko.gz"):
        if base.endswith(ext):
            base = base[: -len(ext)]
            break
    return base.replace("-", "_")


def read_lines(path):
    with open(path) as f:
        return [line.rstrip("\n") for line in f]


def modules(kver, list_path, staging):
    kdir = os.path.join("/lib/modules", kver)
    deps, by_name = {}, {}
    for line in read_lines(os.path.join(kdir, "modules.dep")):
        if ":" not in line:
            continue
        mod, rest = line.split(":", 1)
        deps[mod] = rest.split()
        by_name[module_name(mod)] = mod
    builtin = {module_name(p) for p in read_lines(os.path.join(kdir, "modules.builtin")) if p}

    wanted = []
    for line in read_lines(list_path):
        line = line.split("#", 1)[0].strip()
        if line:
            wanted.append(line.replace("-", "_"))

    # Depth-first, dependencies before the module (post-order); modules.dep lists a
    # module's dependencies transitively, each of which has its own line.
    order, seen, skipped = [], set(), []

    def visit(mod):
        if mod in seen:
            return
        seen.add(mod)
        for dep in deps[mod]:
            visit(dep)
        order.append(mod)

    for name in wanted:
        if name in builtin:
            skipped.append(name)
            continue
        if name not in by_name:
            raise SystemExit(f"imagetool: module {name} is neither in modules.dep nor built in")
        visit(by_name[name])

    dest = os.path.join(staging, "lib", "modules", kver)
    for mod in order:
        if not mod.endswith(".ko"):
            raise SystemExit(f"imagetool: {mod} is compressed; the init loads plain .ko files")
        os.makedirs(os.path.join(dest, os.path.dirname(mod)), exist_ok=True)
        shutil.copyfile(os.path.join(kdir, mod), os.path.join(dest, mod))

    # For busybox modprobe (the kernel's request_module helper, /sbin/modprobe): only the
    # modules shipped, so an on-demand request either loads one of ours or fails fast.
    shipped = set(order)
    with open(os.path.join(dest, "modules.dep"), "w") as f:
        for mod in order:
            f.write(f"{mod}: {' '.join(deps[mod])}\n")
    with open(os.path.join(dest, "modules.alias"), "w") as f:
        for line in read_lines(os.path.join(kdir, "modules.alias")):
            parts = line.split()
            if len(parts) == 3 and parts[0] == "alias" and parts[2] in {module_name(m) for m in shipped}:
                f.write(line + "\n")
    shutil.copyfile(os.path.join(kdir, "modules.builtin"), os.path.join(dest, "modules.builtin"))

    os.makedirs(os.path.join(staging, "etc", "berth"), exist_ok=True)
    with open(os.path.join(staging, "etc", "berth", "modules"), "w") as f:
        f.write("".join(mod + "\n" for mod in order))
    for name in skipped:
        print(f"built in: {name}", file=sys.stderr)
    print("\n".join(order))


def cpio_header(name, mode, size, ino, nlink, mtime, rdev=(0, 0)):
    fields = [ino, mode, 0, 0, nlink, mtime, size, 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
    return b"070701" + b"".join(b"%08X" % v for v in fields) + name.encode() + b"\0"


def pad4(n):
    return b"\0" * (-n % 4)


def normal_mode(st, rel):
    """Modes that do not depend on the builder's umask: 0755 for directories and anything
    executable, 0644 otherwise, 1777 for /tmp."""
    if stat.S_ISLNK(st.st_mode):
        return stat.S_IFLNK | 0o777
    if stat.S_ISDIR(st.st_mode):
        return stat.S_IFDIR | (0o1777 if rel == "tmp" else 0o755)
    if stat.S_ISREG(st.st_mode):
        return stat.S_IFREG | (0o755 if st.st_mode & 0o111 else 0o644)
    raise SystemExit(f"imagetool: {rel}: only directories, files and symlinks are packed")


def cpio(staging, out, epoch):
    """newc, entries sorted by path, owner 0:0, every mtime EPOCH, inode numbers in
    entry order, gzip without name or time: the same tree gives the same bytes."""
    paths = []
    for root, dirs, files in os.walk(staging):
        for name in dirs + files:
            paths.append(os.path.relpath(os.path.join(root, name), staging))
    paths.sort(key=lambda p: p.split("/"))
    body = bytearray()
    ino = 1
    for rel in paths:
        full = os.path.join(staging, rel)
        st = os.lstat(full)
        mode = normal_mode(st, rel)
        if stat.S_ISLNK(mode):
            data = os.readlink(full).encode()
        elif stat.S_ISREG(mode):
            with open(full, "rb") as f:
                data = f.read()
        else:
            data = b""
        nlink = 2 if stat.S_ISDIR(mode) else 1
        hdr = cpio_header(rel, mode, len(data), ino, nlink, epoch)
        body += hdr + pad4(len(hdr)) + data + pad4(len(data))
        ino += 1
        if rel == "dev":
            # /dev/console, so the init has stdin/stdout/stderr before it mounts devtmpfs.
            hdr = cpio_header("dev/console", stat.S_IFCHR | 0o600, 0, ino, 1, epoch, (5, 1))
            body += hdr + pad4(len(hdr))
            ino += 1
    hdr = cpio_header("TRAILER!!!", 0, 0, 0, 1, 0)
    body += hdr + pad4(len(hdr))
    tmp = out + ".tmp"
    with open(tmp, "wb") as raw:
        if out.endswith(".gz"):
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                               compresslevel=9) as gz:
                gz.write(body)
        else:
            raw.write(body)
    os.replace(tmp, out)
    print(f"{out}: {len(paths) + 1} entries, {len(body)} bytes unpacked, "
          f"{os.path.getsize(out)} written")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest(out, info_path):
    with open(info_path) as f:
        info = json.load(f)
    files = {}
    for name in sorted(os.listdir(out)):
        full = os.path.join(out, name)
        if name == "manifest.json" or not os.path.isfile(full) or name.startswith("."):
            continue
        files[name] = {"sha256": sha256_file(full), "size": os.path.getsize(full)}
    info["files"] = files
    tmp = os.path.join(out, ".manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump(info, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, os.path.join(out, "manifest.json"))


def main(argv):
    if len(argv) == 5 and argv[1] == "modules":
        modules(argv[2], argv[3], argv[4])
    elif len(argv) == 5 and argv[1] == "cpio":
        cpio(argv[2], argv[3], int(argv[4]))
    elif len(argv) == 4 and argv[1] == "manifest":
        manifest(argv[2], argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
