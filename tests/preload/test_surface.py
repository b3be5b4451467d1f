#!/usr/bin/env python3
"""The preload library interposes every libc entry point through which a
real VFIO program can reach a served path or descriptor.

The programs: Debian's qemu-system-ppc64 and DPDK 22.11's EAL
(librte_eal.so.23), and the libraries that do file I/O for them (glib,
which QEMU reads sysfs through; DPDK's PCI bus driver). Their imports come
from `nm -D --undefined-only`; which of those can reach a served path or
descriptor comes from glibc's own prototypes (the headers, preprocessed
with _FORTIFY_SOURCE so the __*_chk forms are declared): a `const char *`
parameter glibc names as a path, an int it names as a descriptor, or a
`DIR *`. Each such import must be exported by the library, or be in
EXCEPTIONS below with the reason. The test fails on a missing one, on an
exception the library does interpose (a stale entry), on an import whose
prototype cannot be found (unless in NO_PROTOTYPE), and when the
classifier misjudges known cases.

Usage: test_surface.py PRELOAD_LIBRARY CC
Exits 77 (skipped) when none of the programs is installed: Debian's
qemu-system-ppc and dpdk / libdpdk-dev packages provide them.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

# The parameter names glibc gives paths and descriptors.
PATH_PARAMS = {"__file", "__filename", "__path", "__name", "__dir", "__old",
               "__new", "__from", "__to"}
FD_PARAMS = {"__fd", "__fd2", "__fildes", "__fromfd", "__tofd", "__oldfd",
             "__newfd", "__infd", "__outfd", "__ufd", "__epfd"}

# Imports that take a path or a descriptor but are not interposed, and why.
_SOCKET = ("sockets: a VFIO or sysfs descriptor answers ENOTSOCK, on the "
           "kernel and on the memfd alike")
_TTY = "terminals: ENOTTY (isatty 0) on the memfd as on a VFIO file"
_OWN_FD = ("takes a descriptor of its own kind (epoll, inotify, signalfd, "
           "timerfd instance): EINVAL for a VFIO or sysfs one, here as there")
_NAMESPACE = ("changes the file system's names or metadata: no VFIO program "
              "does it to /sys or /dev/vfio, so it reaches the host's file "
              "system (docs/preload.md, Limits)")
_NOT_PATH = "the string is not a file's path"
_PROGRAM = "runs or loads a program, or names a source file: not served files"
EXCEPTIONS = {
    "accept": _SOCKET, "accept4": _SOCKET, "bind": _SOCKET,
    "connect": _SOCKET, "getpeername": _SOCKET, "getsockname": _SOCKET,
    "getsockopt": _SOCKET, "listen": _SOCKET, "recv": _SOCKET,
    "recvmmsg": _SOCKET, "recvmsg": _SOCKET, "send": _SOCKET,
    "sendmsg": _SOCKET, "sendto": _SOCKET, "setsockopt": _SOCKET,
    "shutdown": _SOCKET,
    "isatty": _TTY, "ptsname": _TTY, "tcgetattr": _TTY, "tcsetattr": _TTY,
    "tcsendbreak": _TTY,
    "epoll_wait": _OWN_FD, "inotify_rm_watch": _OWN_FD,
    "signalfd": _OWN_FD, "timerfd_settime": _OWN_FD,
    "inotify_add_watch": _OWN_FD + "; its path is watched on the host's "
                         "file system (nothing watches the VFIO sysfs)",
    "eventfd_read": "reads 8 bytes with libc's internal read: programs pass "
                    "their eventfds, never a VFIO descriptor",
    "eventfd_write": "writes 8 bytes with libc's internal write: programs "
                     "pass their eventfds, never a VFIO descriptor",
    "fdopen": "a stream on the descriptor: on a served sysfs file it reads "
              "the content natively; on a VFIO descriptor it bypasses the "
              "library (docs/preload.md, Limits); fclose is interposed",
    "posix_fadvise64": "advice: 0 on a VFIO file, a sysfs file and the "
                       "memfd alike",
    "flock": "advisory locks: taken on the memfd as on any kernel file",
    "lockf64": "advisory locks: taken on the memfd as on any kernel file",
    "posix_spawn_file_actions_addclose": "acts in a spawned program's "
                                         "descriptor table",
    "posix_spawn_file_actions_adddup2": "acts in a spawned program's "
                                        "descriptor table",
    "chmod": _NAMESPACE, "fchmod": _NAMESPACE, "fchownat": _NAMESPACE,
    "utimensat": _NAMESPACE, "utime": _NAMESPACE, "mkdir": _NAMESPACE,
    "mkdirat": _NAMESPACE, "mknod": _NAMESPACE, "mknodat": _NAMESPACE,
    "rmdir": _NAMESPACE, "unlink": _NAMESPACE, "unlinkat": _NAMESPACE,
    "remove": _NAMESPACE, "rename": _NAMESPACE, "renameat": _NAMESPACE,
    "linkat": _NAMESPACE, "symlinkat": _NAMESPACE, "chdir": _NAMESPACE,
    "chroot": _NAMESPACE, "mkstemp64": _NAMESPACE, "mkostemp64": _NAMESPACE,
    "fallocate64": _NAMESPACE, "posix_fallocate64": _NAMESPACE,
    "copy_file_range": _NAMESPACE, "sync_file_range": _NAMESPACE,
    "lsetxattr": _NAMESPACE, "lremovexattr": _NAMESPACE,
    "getenv": _NOT_PATH, "setenv": _NOT_PATH, "unsetenv": _NOT_PATH,
    "gethostbyname": _NOT_PATH, "getaddrinfo": _NOT_PATH,
    "getpwnam": _NOT_PATH, "getpwnam_r": _NOT_PATH, "memfd_create": _NOT_PATH,
    "pthread_setname_np": _NOT_PATH, "fnmatch": _NOT_PATH,
    "__xpg_basename": _NOT_PATH + " (string manipulation only)",
    "dirname": _NOT_PATH + " (string manipulation only)",
    "dlopen": _PROGRAM, "execv": _PROGRAM, "execve": _PROGRAM,
    "execvp": _PROGRAM, "posix_spawn": _PROGRAM, "posix_spawnp": _PROGRAM,
    "__assert_fail": _PROGRAM,
}

# Imports without a prototype in the headers probed (data, C runtime and
# compiler support, aliases of string functions): none touches a file.
NO_PROTOTYPE = {
    "__cxa_atexit", "__cxa_finalize", "__environ", "environ", "stdin",
    "stdout", "stderr", "optarg", "optind", "optopt", "__libc_start_main",
    "__stack_chk_fail", "__tls_get_addr", "__register_atfork",
    "__longjmp_chk", "__memcpy_chk", "__memmove_chk", "__memset_chk",
    "__strcpy_chk", "__xpg_strerror_r", "basename", "nl_langinfo",
    "log10", "log2", "pow", "sin",
}

# The classifier's own check: what it must and must not flag.
MUST_FLAG = {"read", "open64", "stat64", "readlink", "readdir64",
             "__pread64_chk", "__realpath_chk", "fopen64", "ioctl", "access"}
MUST_NOT_FLAG = {"strlen", "malloc", "memcpy", "pthread_create", "qsort"}

HEADERS = """
arpa/inet.h assert.h ctype.h dirent.h dlfcn.h errno.h execinfo.h fcntl.h
fnmatch.h ftw.h getopt.h glob.h grp.h iconv.h langinfo.h libgen.h libintl.h
link.h locale.h malloc.h math.h netdb.h poll.h pthread.h pty.h pwd.h regex.h
sched.h setjmp.h signal.h spawn.h stdio.h stdlib.h string.h sys/auxv.h
sys/epoll.h sys/eventfd.h sys/file.h sys/inotify.h sys/io.h sys/ioctl.h
sys/mman.h sys/mount.h sys/personality.h sys/prctl.h sys/random.h
sys/resource.h sys/select.h sys/sendfile.h sys/signalfd.h sys/socket.h
sys/stat.h sys/statfs.h sys/statvfs.h sys/syscall.h sys/time.h
sys/timerfd.h sys/uio.h sys/utsname.h sys/wait.h sys/xattr.h syslog.h
termios.h time.h ucontext.h unistd.h utime.h wchar.h
""".split()


def nm(args, path):
    out = subprocess.run(["nm", "-D"] + args + [path], capture_output=True,
                         text=True, check=True).stdout
    return out.splitlines()


def imports(path):
    """The glibc symbols @path imports."""
    names = set()
    for line in nm(["--undefined-only"], path):
        m = re.match(r"\s*[Uw]\s+([^@\s]+)@+GLIBC_", line)
        if m:
            names.add(m.group(1))
    return names


def exported(path):
    names = set()
    for line in nm(["--defined-only"], path):
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TWi":
            names.add(parts[2].split("@")[0])
    return names


def find_library(name):
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            if line.strip().startswith(name + " ") and "=>" in line:
                return line.split("=>")[1].strip()
    except OSError:
        pass
    hits = glob.glob(f"/usr/lib/*/{name}") + glob.glob(f"/usr/lib64/{name}")
    return hits[0] if hits else None


def linked_library(binary, name):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.strip().startswith(name) and "=>" in line:
            return line.split("=>")[1].split("(")[0].strip()
    return None


def strip_groups(text, keyword):
    """Drop every `keyword ( ... )` group (attributes, typeof)."""
    out, i = [], 0
    while True:
        j = text.find(keyword, i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:j])
        k, depth = text.find("(", j), 0
        for m in range(k, len(text)):
            depth += {"(": 1, ")": -1}.get(text[m], 0)
            if depth == 0:
                break
        i = m + 1


def split_params(params):
    out, depth, cur = [], 0, ""
    for ch in params:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def prototypes(cc):
    """name -> parameter list, from glibc's headers."""
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "probe.c")
        with open(src, "w") as f:
            f.writelines(f"#include <{h}>\n" for h in HEADERS)
        text = subprocess.run(
            [cc, "-E", "-P", "-D_GNU_SOURCE", "-D_LARGEFILE64_SOURCE",
             "-D_FORTIFY_SOURCE=2", "-O2", src],
            capture_output=True, text=True, check=True).stdout
    text = strip_groups(text, "__attribute__")
    text = strip_groups(text, "__typeof__")
    protos = {}
    decl = re.compile(r"(\b(?:int|void|char|long|double|float|unsigned|short|"
                      r"FILE|DIR|struct \w+|\w+_t)\s*\**|\*)\s*"
                      r"\b([A-Za-z_]\w*)\s*\(")
    for m in decl.finditer(text):
        name, k, depth = m.group(2), m.end() - 1, 0
        for e in range(k, min(len(text), k + 4000)):
            depth += {"(": 1, ")": -1}.get(text[e], 0)
            if depth == 0:
                break
        params = text[k + 1:e]
        if params.strip() not in ("", "void") and not re.search(
                r"\b(int|const|char|void|struct|unsigned|long|DIR|FILE|\w+_t)\b",
                params):
            continue	# a call, not a declaration
        protos.setdefault(name, params)
        # __REDIRECT: the symbol is the asm label (__isoc99_sscanf, ...)
        label = re.match(r'\s*__asm__\s*\(\s*"(?:[^"]*)"\s*"(\w+)"\s*\)',
                         text[e + 1:e + 200])
        if label:
            protos.setdefault(label.group(1), params)
    return protos


def reaches(params):
    """Why a parameter list can reach a served path or descriptor, or None."""
    for p in split_params(params):
        m = re.search(r"(\w+)\s*(\[[^\]]*\])?\s*$", p)
        if not m:
            continue
        name, ty = m.group(1), re.sub(r"\s+", " ", p[:m.start()]).strip()
        base = ty.replace("const", "").replace("__restrict", "").strip()
        if (name in PATH_PARAMS and "const" in ty and "char" in base and
                base.count("*") == 1):
            return f"path {name}"
        if name in FD_PARAMS and base in ("int", "unsigned int"):
            return f"descriptor {name}"
        if re.match(r"DIR\s*\*", base):
            return "DIR"
    return None


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    lib, cc = sys.argv[1], sys.argv[2]
    if not shutil.which("nm"):
        print("skip: nm (binutils) is not installed")
        return 77
    programs = {}
    qemu = shutil.which("qemu-system-ppc64")
    if qemu:
        programs["qemu-system-ppc64"] = qemu
        glib = linked_library(qemu, "libglib-2.0.so")
        if glib:
            programs["libglib-2.0 (QEMU's sysfs reads)"] = glib
    else:
        print("skip: qemu-system-ppc64 is not installed (Debian: qemu-system-ppc)")
    eal = find_library("librte_eal.so.23")
    if eal:
        programs["librte_eal.so.23"] = eal
        bus = find_library("librte_bus_pci.so.23")
        if bus:
            programs["librte_bus_pci.so.23 (DPDK's sysfs reads)"] = bus
    else:
        print("skip: DPDK 22.11's librte_eal.so.23 is not installed "
              "(Debian: dpdk, libdpdk-dev)")
    if not programs:
        return 77

    served = exported(lib)
    protos = prototypes(cc)
    failed = 0
    for name in MUST_FLAG:
        if name not in protos or not reaches(protos[name]):
            print(f"FAIL classifier: {name} should reach a served file")
            failed += 1
    for name in MUST_NOT_FLAG:
        if name in protos and reaches(protos[name]):
            print(f"FAIL classifier: {name} should not reach a served file")
            failed += 1

    where = {}
    for label, path in programs.items():
        print(f"{label}: {path}")
        for name in imports(path):
            where.setdefault(name, []).append(label.split()[0])
    rows = []
    for name in sorted(where):
        if name not in protos:
            if name not in NO_PROTOTYPE:
                print(f"FAIL {name}: imported by {', '.join(where[name])}, "
                      "no prototype found: classify it (or NO_PROTOTYPE)")
                failed += 1
            continue
        why = reaches(protos[name])
        if not why:
            continue
        if name in served and name in EXCEPTIONS:
            print(f"FAIL {name}: interposed but listed as an exception")
            failed += 1
        elif name in served:
            rows.append((name, why, "interposed"))
        elif name in EXCEPTIONS:
            rows.append((name, why, "exception: " +
                         EXCEPTIONS[name].split(":")[0]))
        else:
            print(f"FAIL {name} ({why}): imported by {', '.join(where[name])}, "
                  "not interposed")
            failed += 1
    for name, why, status in rows:
        print(f"  {name:34} {why:22} {status}")
    n_served = sum(1 for r in rows if r[2] == "interposed")
    print(f"{len(rows)} imports reach a path or descriptor: {n_served} "
          f"interposed, {len(rows) - n_served} exceptions; {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
