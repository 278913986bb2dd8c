#!/usr/bin/python3
# A FUSE view of a folder that treats its callers the way an NFS server with root_squash does:
# every request runs with the caller's uid, gid and supplementary groups as the file system
# user (setfsuid/setfsgid, as knfsd does for each RPC), with root (0) mapped to the anonymous
# uid/gid (nobody). The kernel then checks the permissions itself, with those ids: root on a
# client cannot write, chown or chmod what it does not own there, while the worker's uid can.
# It stands in for a member's NFS mount of the P1 host's export (this machine has no kernel NFS
# client); test/nfs keeps proving the protocol with ganesha.
#
# No `default_permissions`: the kernel would then check the caller's own creds, and root's
# CAP_DAC_OVERRIDE would pass everything. Permission is decided here, per request, by the
# kernel's checks under the mapped creds (a fsuid other than 0 drops the file capabilities).
# Single-threaded: setfsuid and setfsgid are per thread, and each request sets and resets them.
#
#   root-squash-fs.py SOURCE MOUNTPOINT --fsname NAME [--anon UID:GID] [--label TEXT]
# runs in the foreground until unmounted (umount MOUNTPOINT) or killed; NAME is what findmnt
# shows as the source (e.g. "10.10.10.21:/sealer"); --label only marks the process for the
# fixture sweeper (test/support/fixtures.ts).
import ctypes
import errno
import os
import sys

import fuse

fuse.fuse_python_api = (0, 2)
libc = ctypes.CDLL("libc.so.6", use_errno=True)


def parse_args(argv):
    opts = {"anon": (65534, 65534), "fsname": None, "label": ""}
    pos = []
    it = iter(argv)
    for a in it:
        if a == "--anon":
            u, g = next(it).split(":")
            opts["anon"] = (int(u), int(g))
        elif a == "--fsname":
            opts["fsname"] = next(it)
        elif a == "--label":
            opts["label"] = next(it)
        else:
            pos.append(a)
    if len(pos) != 2 or not opts["fsname"]:
        sys.exit("usage: root-squash-fs.py SOURCE MOUNTPOINT --fsname NAME [--anon UID:GID] [--label TEXT]")
    return pos[0], pos[1], opts


def caller_groups(pid):
    """The caller's supplementary groups, from /proc (FUSE passes only uid, gid and pid)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Groups:"):
                    return [int(g) for g in line.split()[1:]]
    except OSError:
        pass
    return []


class Squashed:
    """Runs one request as the mapped caller: fsuid, fsgid and groups set, put back after."""

    def __init__(self, fs):
        self.fs = fs

    def __enter__(self):
        ctx = self.fs.GetContext()
        au, ag = self.fs.anon
        uid = au if ctx["uid"] == 0 else ctx["uid"]
        gid = ag if ctx["gid"] == 0 else ctx["gid"]
        groups = [ag if g == 0 else g for g in caller_groups(ctx["pid"])]
        os.setgroups(groups)
        libc.setfsgid(gid)
        libc.setfsuid(uid)
        return self

    def __exit__(self, *exc):
        libc.setfsuid(0)
        libc.setfsgid(0)
        os.setgroups([])
        return False


def errors(fn):
    """FUSE wants -errno; OSError carries it."""

    def wrapped(*args, **kw):
        try:
            return fn(*args, **kw)
        except OSError as e:
            return -(e.errno or errno.EIO)

    wrapped.__name__ = fn.__name__
    return wrapped


class RootSquashFS(fuse.Fuse):
    def __init__(self, source, anon, *args, **kw):
        super().__init__(*args, **kw)
        # Opened once as root: requests resolve below this fd, so the folders above the source
        # (this machine's, not the export's) play no part in the checks, as on an NFS server.
        self.root = os.open(source, os.O_RDONLY | os.O_DIRECTORY)
        self.anon = anon
        fs = self

        class File:
            # An OSError raised here reaches the caller as its errno (fuse-python does that).
            def __init__(self, path, flags, *mode):
                with Squashed(fs):
                    self.fd = os.open(fs.rel(path), flags, *mode, dir_fd=fs.root)

            def read(self, size, offset):
                try:
                    return os.pread(self.fd, size, offset)
                except OSError as e:
                    return -e.errno

            def write(self, buf, offset):
                try:
                    return os.pwrite(self.fd, buf, offset)
                except OSError as e:
                    return -e.errno

            def fgetattr(self):
                try:
                    return os.fstat(self.fd)
                except OSError as e:
                    return -e.errno

            def ftruncate(self, length):
                try:
                    os.ftruncate(self.fd, length)
                except OSError as e:
                    return -e.errno

            def fsync(self, isfsyncfile):
                try:
                    os.fsync(self.fd)
                except OSError as e:
                    return -e.errno

            def flush(self):
                return 0

            def release(self, flags):
                os.close(self.fd)

        self.file_class = File

    @staticmethod
    def rel(path):
        return "." if path == "/" else path.lstrip("/")

    @errors
    def getattr(self, path):
        with Squashed(self):
            return os.lstat(self.rel(path), dir_fd=self.root)

    @errors
    def readlink(self, path):
        with Squashed(self):
            return os.readlink(self.rel(path), dir_fd=self.root)

    @errors
    def readdir(self, path, offset):
        with Squashed(self):
            fd = os.open(self.rel(path), os.O_RDONLY | os.O_DIRECTORY, dir_fd=self.root)
            try:
                names = os.listdir(fd)
            finally:
                os.close(fd)
        return [fuse.Direntry(n) for n in [".", "..", *names]]

    @errors
    def access(self, path, mode):
        with Squashed(self):
            # effective_ids: AT_EACCESS, so the check uses the fsuid set above, not the real uid.
            if not os.access(self.rel(path), mode, dir_fd=self.root, effective_ids=True, follow_symlinks=False):
                return -errno.EACCES
        return 0

    @errors
    def mknod(self, path, mode, dev):
        with Squashed(self):
            os.mknod(self.rel(path), mode, dev, dir_fd=self.root)

    @errors
    def mkdir(self, path, mode):
        with Squashed(self):
            os.mkdir(self.rel(path), mode, dir_fd=self.root)

    @errors
    def unlink(self, path):
        with Squashed(self):
            os.unlink(self.rel(path), dir_fd=self.root)

    @errors
    def rmdir(self, path):
        with Squashed(self):
            os.rmdir(self.rel(path), dir_fd=self.root)

    @errors
    def symlink(self, target, path):
        with Squashed(self):
            os.symlink(target, self.rel(path), dir_fd=self.root)

    @errors
    def rename(self, old, new):
        with Squashed(self):
            os.rename(self.rel(old), self.rel(new), src_dir_fd=self.root, dst_dir_fd=self.root)

    @errors
    def link(self, target, path):
        with Squashed(self):
            os.link(self.rel(target), self.rel(path), src_dir_fd=self.root, dst_dir_fd=self.root, follow_symlinks=False)

    @errors
    def chmod(self, path, mode):
        with Squashed(self):
            os.chmod(self.rel(path), mode, dir_fd=self.root)

    @errors
    def chown(self, path, uid, gid):
        with Squashed(self):
            os.chown(self.rel(path), uid, gid, dir_fd=self.root, follow_symlinks=False)

    @errors
    def truncate(self, path, length):
        with Squashed(self):
            fd = os.open(self.rel(path), os.O_WRONLY, dir_fd=self.root)
            try:
                os.ftruncate(fd, length)
            finally:
                os.close(fd)

    @errors
    def utimens(self, path, ts_acc, ts_mod):
        with Squashed(self):
            ns = (ts_acc.tv_sec * 10**9 + ts_acc.tv_nsec, ts_mod.tv_sec * 10**9 + ts_mod.tv_nsec)
            os.utime(self.rel(path), ns=ns, dir_fd=self.root, follow_symlinks=False)

    @errors
    def statfs(self):
        return os.statvfs(self.root)


def main():
    source, mountpoint, opts = parse_args(sys.argv[1:])
    fs = RootSquashFS(source, opts["anon"], version="root-squash-fs", usage="", dash_s_do="setsingle")
    # allow_other: the members' processes are not the mounter. No caching of entries or
    # attributes: two callers with different ids must each be asked about, as an NFS server is.
    mount_opts = f"allow_other,fsname={opts['fsname']},subtype=sealbench-squash,entry_timeout=0,attr_timeout=0,negative_timeout=0"
    fs.parse(["root-squash-fs", mountpoint, "-f", "-s", *(["-d"] if os.environ.get("SQDEBUG") else []), "-o", mount_opts], errex=1)
    fs.multithreaded = False
    fs.main()


if __name__ == "__main__":
    main()
