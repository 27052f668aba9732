#!/usr/bin/python3
"""Archives whose member names are not ASCII, and the names NumPy sees in them.

Usage: generate_npz_names.py GOLDEN_DIR  (writes GOLDEN_DIR/npz_names/ only)

A zip name without the UTF-8 flag (general purpose bit 11) is decoded by
CPython's zipfile, and so by np.load, as code page 437; with the flag, as
UTF-8. Archives:
- cp437_zipfile.npz: written by zipfile with ASCII placeholder names, then the
  names are replaced in the local and central headers by raw bytes covering
  every byte 0x80-0xFF, flag left clear (zipfile itself only writes ASCII or
  flagged UTF-8 names); plus a flagged UTF-8 name and a plain ASCII one.
- cp437_duplicate.npz: b"\x82.npy" unflagged and "\u00e9.npy" flagged, which
  zipfile decodes to the same name (np.load lists it twice).
- infozip_c_locale.npz: Info-ZIP `zip` run under LANG=C on a file whose name
  holds Latin-1 bytes: it stores the raw bytes without the flag.
manifest.json records, per archive, zipfile's namelist, np.load's files, each
member's flag bits and the hex of its bytes.
"""
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

import numpy as np


def npy_bytes(a):
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def cp437_members():
    # (raw name bytes, contents, whether zipfile writes the name itself)
    members = []
    for i in range(8):
        raw = b"n" + bytes(range(0x80 + 16 * i, 0x90 + 16 * i)) + b".npy"
        members.append((raw, npy_bytes(np.arange(i + 1, dtype="<i4")), False))
    members.append((b"caf\x82 notes.txt", b"raw bytes, not an array\n", False))
    members.append(("caf\u00e9_utf8.npy".encode("utf-8"), npy_bytes(np.ones(2)), True))
    members.append((b"plain.npy", npy_bytes(np.zeros((2, 2), dtype=">f4")), True))
    return members


def raw_name_archive(path, members):
    """Writes members [(raw name, data, keep)]: names with keep=False are stored
    as their raw bytes with the UTF-8 flag clear."""
    placeholders = {}
    with zipfile.ZipFile(path, "w") as z:
        for k, (raw, data, keep) in enumerate(members):
            name = raw.decode("utf-8") if keep else ("p%02d" % k).ljust(len(raw), "_")
            placeholders[name] = None if keep else raw
            z.writestr(name, data)
    data = bytearray(open(path, "rb").read())
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        cd = z.start_dir
    for info in infos:
        raw = placeholders[info.filename]
        if raw is None:
            continue
        off = info.header_offset
        assert data[off:off + 4] == b"PK\x03\x04"
        nlen = struct.unpack_from("<H", data, off + 26)[0]
        assert data[off + 30:off + 30 + nlen] == info.filename.encode("ascii")
        data[off + 30:off + 30 + nlen] = raw
    p = cd
    while data[p:p + 4] == b"PK\x01\x02":
        flags = struct.unpack_from("<H", data, p + 8)[0]
        nlen, xlen, clen = struct.unpack_from("<HHH", data, p + 28)
        name = bytes(data[p + 46:p + 46 + nlen]).decode("utf-8" if flags & 0x800 else "ascii")
        raw = placeholders[name]
        if raw is not None:
            assert not flags & 0x800
            data[p + 46:p + 46 + nlen] = raw
        p += 46 + nlen + xlen + clen
    open(path, "wb").write(bytes(data))


def infozip_archive(path):
    with tempfile.TemporaryDirectory() as tmp:
        name = b"r\xe9sum\xe9.npy"
        with open(os.path.join(os.fsencode(tmp), name), "wb") as f:
            f.write(npy_bytes(np.arange(3, dtype="<i8")))
        env = dict(os.environ, LANG="C", LC_ALL="C")
        subprocess.run([b"zip", b"-q", b"-X", os.fsencode(os.path.abspath(path)), name],
                       cwd=tmp, env=env, check=True)


def describe(path):
    out = {}
    with zipfile.ZipFile(path) as z:
        out["namelist"] = z.namelist()
        out["flags"] = [i.flag_bits for i in z.infolist()]
        out["bytes_hex"] = [z.read(i).hex() for i in z.infolist()]
    with np.load(path, allow_pickle=False) as z:
        out["files"] = list(z.files)
    return out


def main():
    root = os.path.join(sys.argv[1], "npz_names")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    made = ["cp437_zipfile.npz"]
    raw_name_archive(os.path.join(root, made[0]), cp437_members())
    # b"\x82.npy" without the flag and "\u00e9.npy" with it: one name to zipfile.
    made.append("cp437_duplicate.npz")
    raw_name_archive(os.path.join(root, made[-1]),
                     [(b"\x82.npy", npy_bytes(np.arange(2)), False),
                      ("\u00e9.npy".encode("utf-8"), npy_bytes(np.arange(3)), True)])
    if shutil.which("zip"):
        made.append("infozip_c_locale.npz")
        infozip_archive(os.path.join(root, made[-1]))
    manifest = {name: describe(os.path.join(root, name)) for name in made}
    # Every high byte appears in some name without the flag.
    seen = set()
    with zipfile.ZipFile(os.path.join(root, made[0])) as z:
        for i in z.infolist():
            if not i.flag_bits & 0x800:
                seen.update(i.filename.encode("cp437"))
    assert set(range(0x80, 0x100)) <= seen
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
