"""Read untrusted archives (zip, tar) in memory, under limits, without unpacking them to disk.

Students' archives may be broken or hostile: members named `../x` or `/etc/x`, symbolic
links, millions of files, a few kilobytes that unpack to gigabytes, or no archive at all.
`read` lists an archive's members and reads the ones asked for, spending a `Budget` shared
with the archives inside it; anything it cannot or will not read raises `Refused` with the
reason. Nothing is ever written to disk under a member's own name.
"""

import io
import re
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from stat import S_IFMT, S_ISDIR, S_ISLNK, S_ISREG

SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".gz")   # nbgrader's ExtractorPlugin reads .zip and .gz
MAX_MEMBERS = 2000            # members of one download, archives inside it included
MAX_BYTES = 200 * 2**20       # bytes one download may unpack to, archives inside it included
MAX_DEPTH = 3                 # archives inside archives inside ...


class Refused(Exception):
    """An archive that is not read; the message says why, in words for the instructor."""


@dataclass
class Member:
    """One member of an archive: name as stored, kind ('file', 'dir', 'link', 'special'), data if read."""

    name: str
    kind: str
    data: bytes = None


@dataclass
class Budget:
    """What one download (with the archives inside it) may still unpack."""

    members: int = field(default_factory=lambda: MAX_MEMBERS)
    bytes: int = field(default_factory=lambda: MAX_BYTES)

    def spend(self, members, size):
        """Take `members` (int) and `size` (bytes) from the budget; raise Refused when it runs out."""
        self.members -= members
        self.bytes -= size
        if self.members < 0:
            raise Refused(f"holds more than {MAX_MEMBERS} files (archives inside it included); not opened")
        if self.bytes < 0:
            raise Refused(f"unpacks to more than {MAX_BYTES // 2**20} MiB (archives inside it included; "
                          "a zip bomb?); not opened")


def is_archive(name):
    """True if the file name `name` (str) has an archive suffix this module reads."""
    return name.lower().endswith(SUFFIXES)


def unsafe_name(name):
    """Why the member name `name` (str) could point outside its archive's folder, or None if it cannot."""
    path = name.replace("\\", "/")
    if "\x00" in path:
        return "has a NUL character in its name"
    if path.startswith("/") or re.match(r"[A-Za-z]:", path):
        return "has an absolute path"
    if ".." in path.split("/"):
        return "climbs out of its folder with '..'"
    return None


def read(source, name, budget, wanted):
    """[Member] of the archive `source` (a path or bytes) called `name`, sorted by member name.

    The data of regular files whose name satisfies `wanted(name) -> bool` is read, within `budget`
    (Budget, spent for every member). Raises Refused if the archive cannot be read or is too big.
    """
    reader = _read_zip if name.lower().endswith(".zip") else _read_tar
    kind = "zip" if reader is _read_zip else "tar"
    try:
        with (open(source, "rb") if not isinstance(source, bytes) else io.BytesIO(source)) as stream:
            members = reader(stream, budget, wanted)
    except Refused:
        raise
    except (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError, OSError, RuntimeError,
            NotImplementedError, ValueError) as exc:  # every way the two readers report a broken archive
        raise Refused(f"not a readable {kind} archive ({type(exc).__name__}: {exc}); not opened") from None
    return sorted(members, key=lambda m: m.name)


def _limited(stream, size):
    """The bytes of `stream`, whose declared size (already spent from the budget) is `size`.

    Raises Refused if it holds more than declared.
    """
    data = stream.read(size + 1)
    if len(data) > size:
        raise Refused("a member holds more than its declared size (a zip bomb?); not opened")
    return data


def _read_zip(stream, budget, wanted):
    archive = zipfile.ZipFile(stream)
    infos = archive.infolist()
    budget.spend(len(infos), sum(i.file_size for i in infos))
    members = []
    for info in infos:
        mode = info.external_attr >> 16   # Unix file type and permissions; 0 from many zip tools
        kind = ("dir" if info.is_dir() or S_ISDIR(mode) else "link" if S_ISLNK(mode)
                else "file" if not S_IFMT(mode) or S_ISREG(mode) else "special")
        data = None
        if kind == "file" and wanted(info.filename):
            with archive.open(info) as member:
                data = _limited(member, info.file_size)
        members.append(Member(info.filename, kind, data))
    return members


def _read_tar(stream, budget, wanted):
    members = []
    with tarfile.open(fileobj=stream, mode="r:*") as archive:
        for info in archive:
            budget.spend(1, max(info.size, 0))
            kind = ("file" if info.isfile() else "dir" if info.isdir()
                    else "link" if info.issym() or info.islnk() else "special")
            data = None
            if kind == "file" and wanted(info.name):
                data = _limited(archive.extractfile(info), info.size)
            members.append(Member(info.name, kind, data))
    return members
