"""A small tmpfs for a server's data directory, so a test can fill it up.

mount(8) is tried first (we usually run as root). Without that privilege a
private user and mount namespace is made with `unshare -rm`, kept alive by
a `sleep` process, and every command that must see the small file system
(the server, the filler file) runs inside it through `nsenter`. If neither
works, SmallDisk.mount() raises Unavailable with the reason, and the caller
skips.

Used by tests/e2e/test_disk_full.py and the torture's --disk-full mode.
"""

import os
import shutil
import signal
import subprocess


class Unavailable(Exception):
    """No way to mount a small file system here."""


class SmallDisk:
    def __init__(self, path, size_mb):
        self.path = os.path.abspath(path)
        self.size_mb = size_mb
        self.prefix = []         # argv prefix for commands that must see it
        self._mounted = False
        self._holder = None      # the namespace's keeper process

    def mount(self):
        os.makedirs(self.path, exist_ok=True)
        opts = "size=%dm,mode=0700" % self.size_mb
        if os.environ.get("SMALLDISK_FORCE_NAMESPACE") != "1":
            r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs",
                                self.path], capture_output=True, timeout=20)
            if r.returncode == 0:
                self._mounted = True
                return self
            first = r.stderr.decode(errors="replace").strip()
        else:
            first = "mount skipped (SMALLDISK_FORCE_NAMESPACE=1)"
        if not shutil.which("unshare") or not shutil.which("nsenter"):
            raise Unavailable("mount failed (%s) and unshare/nsenter are missing"
                              % first)
        script = ("mount -t tmpfs -o %s tmpfs '%s' && echo mounted && exec sleep 86400"
                  % (opts, self.path))
        self._holder = subprocess.Popen(
            ["unshare", "-rm", "--propagation", "private", "sh", "-c", script],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL)
        line = self._holder.stdout.readline().decode().strip()
        if line != "mounted":
            err = self._holder.stderr.read().decode(errors="replace").strip()
            self._stop_holder()
            raise Unavailable("mount failed (%s); unshare -rm failed too (%s)"
                              % (first, err))
        self.prefix = ["nsenter", "-t", str(self._holder.pid), "-U", "-m",
                       "--preserve-credentials"]
        return self

    def run(self, argv, check=True):
        """Runs argv where the small file system is visible."""
        r = subprocess.run(self.prefix + list(argv), capture_output=True,
                           timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError("%s failed: %s"
                               % (argv, r.stderr.decode(errors="replace")))
        return r.stdout.decode()

    def free_bytes(self):
        out = self.run(["stat", "-f", "-c", "%f %S", self.path]).split()
        return int(out[0]) * int(out[1])

    def fill(self, name, nbytes):
        """A filler file of nbytes (allocated, not sparse)."""
        self.run(["fallocate", "-l", str(max(4096, nbytes)),
                  os.path.join(self.path, name)])

    def fill_to(self, name, leave_bytes):
        """A filler file that leaves about leave_bytes free."""
        self.fill(name, self.free_bytes() - leave_bytes)

    def remove(self, name):
        self.run(["rm", "-f", os.path.join(self.path, name)])

    def _stop_holder(self):
        if self._holder and self._holder.poll() is None:
            os.kill(self._holder.pid, signal.SIGKILL)
            self._holder.wait(timeout=10)
        self._holder = None

    def unmount(self):
        """After everything running on it has stopped."""
        if self._mounted:
            subprocess.run(["umount", "-l", self.path], capture_output=True,
                           timeout=20)
            self._mounted = False
        self._stop_holder()
        self.prefix = []
