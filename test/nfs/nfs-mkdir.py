# mkdir over NFSv3 as a given uid/gid, through libnfs (the userspace client; no kernel NFS here).
# libnfs-utils ships nfs-cp, nfs-ls and nfs-cat but no mkdir, and the notes' failure is a mkdir:
# `failed to create out dir … /sealer/nfs/10.10.13.22/sealed`.
# Usage: python3 nfs-mkdir.py SERVER EXPORT PATH UID GID  (PATH relative to the export, "/a/b")
# Exit 0 made, 1 refused by the server (its message on stderr), 2 could not mount.
import ctypes
import sys

server, export, path, uid, gid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
lib = ctypes.CDLL("libnfs.so.13")
lib.nfs_init_context.restype = ctypes.c_void_p
lib.nfs_get_error.restype = ctypes.c_char_p
lib.nfs_get_error.argtypes = [ctypes.c_void_p]
for name in ("nfs_set_uid", "nfs_set_gid", "nfs_set_version"):
    getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_int]
lib.nfs_mount.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
lib.nfs_mkdir.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
lib.nfs_destroy_context.argtypes = [ctypes.c_void_p]

nfs = lib.nfs_init_context()
if not nfs:
    sys.exit("nfs_init_context failed")
lib.nfs_set_uid(nfs, uid)
lib.nfs_set_gid(nfs, gid)
lib.nfs_set_version(nfs, 3)
if lib.nfs_mount(nfs, server.encode(), export.encode()) != 0:
    print("mount: " + lib.nfs_get_error(nfs).decode(), file=sys.stderr)
    sys.exit(2)
rc = lib.nfs_mkdir(nfs, path.encode())
if rc != 0:
    print("mkdir: " + lib.nfs_get_error(nfs).decode(), file=sys.stderr)
lib.nfs_destroy_context(nfs)
sys.exit(0 if rc == 0 else 1)
