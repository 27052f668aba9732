#!/usr/bin/python3
"""Archives for the npz tests, made by the real tools, and what NumPy sees in them.

Usage: generate_npz.py GOLDEN_DIR  (writes GOLDEN_DIR/npz/ only)

Writers: NumPy (savez, savez_compressed, empty savez), CPython's zipfile
(stored, deflate, bzip2, lzma, an archive comment, a non-seekable target so
members carry data descriptors, NumPy's newer 0xFFFFFFFF local sizes), Info-ZIP
`zip` (stored, deflate, streamed to a pipe), 7-Zip (`7z a`: deflate, stored,
bzip2, lzma, and deflate64 which npio must refuse). manifest.json records, per
archive, np.load's view: `files`, and per key either an array (dtype str,
shape, fortran_order, hex of tobytes in C order) or raw bytes (hex).
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


def arrays():
    rng = np.random.default_rng(20240601)
    return {
        "ints": np.arange(12, dtype="<i8").reshape(3, 4),
        "floats": rng.random(300),
        "big_endian_f": np.asfortranarray(np.arange(24, dtype=">f4").reshape(2, 3, 4)),
        "empty": np.zeros((0, 3), dtype="<u2"),
        "scalar": np.array(3.5 + 1j, dtype="<c16"),
        "text": np.array(["a", "bcd", "üñí"], dtype="<U3"),
        "flags": np.array([True, False, True]),
        "rec": np.array([(1, 2.0), (3, 4.0)], dtype=[("x", "<i4"), ("y", "<f8")]),
    }


def npy_bytes(a):
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


class WriteOnly:
    """A target that cannot seek: zipfile then writes data descriptors."""

    def __init__(self):
        self.buf = io.BytesIO()

    def write(self, b):
        return self.buf.write(b)

    def flush(self):
        pass


def zipfile_archive(path, method, comment=b"", streamed=False, extra_member=True):
    target = WriteOnly() if streamed else path
    with zipfile.ZipFile(target, "w", compression=method) as z:
        for k, a in arrays().items():
            z.writestr(k + ".npy", npy_bytes(a))
        if extra_member:
            z.writestr("notes.txt", b"not an array\n")
        z.comment = comment
    if streamed:
        with open(path, "wb") as f:
            f.write(target.buf.getvalue())


def ffff_local_sizes(src, dst):
    """What CPython >= 3.11.4 writes for NumPy (gh-103861): local headers with
    0xFFFFFFFF sizes and the zip64 extra, version needed 45."""
    data = bytearray(open(src, "rb").read())
    z = zipfile.ZipFile(src)
    for info in z.infolist():
        off = info.header_offset
        assert data[off:off + 4] == b"PK\x03\x04"
        nlen, xlen = struct.unpack_from("<HH", data, off + 26)
        extra = bytes(data[off + 30 + nlen: off + 30 + nlen + xlen])
        assert extra[:2] == b"\x01\x00", "numpy writes a zip64 local extra"
        struct.pack_into("<H", data, off + 4, 45)
        struct.pack_into("<II", data, off + 18, 0xFFFFFFFF, 0xFFFFFFFF)
    open(dst, "wb").write(bytes(data))


def run(cmd, **kw):
    subprocess.run(cmd, check=True, stdout=kw.pop("stdout", subprocess.DEVNULL), **kw)


def describe(path):
    out = {"files": [], "members": {}}
    with np.load(path, allow_pickle=False) as z:
        out["files"] = list(z.files)
        for k in z.files:
            v = z[k]
            if isinstance(v, np.ndarray):
                out["members"][k] = {
                    "dtype": v.dtype.str if v.dtype.names is None else str(v.dtype.descr),
                    "shape": list(v.shape),
                    "fortran_order": bool(v.flags.f_contiguous and not v.flags.c_contiguous),
                    "hex": v.tobytes(order="C").hex(),
                }
            else:
                out["members"][k] = {"bytes_hex": bytes(v).hex()}
    return out


def main():
    root = os.path.join(sys.argv[1], "npz")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    A = arrays()
    made = []

    def p(name):
        made.append(name)
        return os.path.join(root, name)

    np.savez(p("numpy_savez.npz"), *[A["ints"], A["floats"]], **A)
    np.savez_compressed(p("numpy_savez_compressed.npz"), **A)
    np.savez(p("numpy_empty.npz"))
    ffff_local_sizes(os.path.join(root, "numpy_savez.npz"), p("numpy_ffff_stored.npz"))
    ffff_local_sizes(os.path.join(root, "numpy_savez_compressed.npz"),
                     p("numpy_ffff_deflate.npz"))
    zipfile_archive(p("zipfile_stored.npz"), zipfile.ZIP_STORED)
    zipfile_archive(p("zipfile_deflate.npz"), zipfile.ZIP_DEFLATED)
    zipfile_archive(p("zipfile_bzip2.npz"), zipfile.ZIP_BZIP2)
    zipfile_archive(p("zipfile_lzma.npz"), zipfile.ZIP_LZMA)
    zipfile_archive(p("zipfile_comment.npz"), zipfile.ZIP_DEFLATED,
                    comment=b"an archive comment")
    zipfile_archive(p("zipfile_descriptors.npz"), zipfile.ZIP_DEFLATED, streamed=True)
    zipfile_archive(p("zipfile_descriptors_stored.npz"), zipfile.ZIP_STORED, streamed=True)

    with tempfile.TemporaryDirectory() as tmp:
        names = []
        for k, a in A.items():
            np.save(os.path.join(tmp, k + ".npy"), a)
            names.append(k + ".npy")
        if shutil.which("zip"):
            run(["zip", "-q", "-X", os.path.abspath(p("infozip_deflate.npz"))] + names, cwd=tmp)
            run(["zip", "-q", "-X", "-0", os.path.abspath(p("infozip_stored.npz"))] + names,
                cwd=tmp)
            with open(p("infozip_streamed.npz"), "wb") as f:
                # Output to a pipe: zip cannot seek back, so it writes data descriptors.
                zp = subprocess.Popen(["zip", "-q", "-X", "-", *names], cwd=tmp,
                                      stdout=subprocess.PIPE)
                shutil.copyfileobj(zp.stdout, f)
                assert zp.wait() == 0
        if shutil.which("7z"):
            for name, m in [("7z_deflate.npz", "Deflate"), ("7z_stored.npz", "Copy"),
                            ("7z_bzip2.npz", "BZip2"), ("7z_lzma.npz", "LZMA")]:
                run(["7z", "a", "-tzip", "-mm=" + m, os.path.abspath(p(name))] + names,
                    cwd=tmp)
            # Deflate64 (method 9): NumPy cannot read it either; npio must refuse it cleanly.
            run(["7z", "a", "-tzip", "-mm=Deflate64",
                 os.path.abspath(os.path.join(root, "unsupported_deflate64.npz"))] + names,
                cwd=tmp)

    manifest = {}
    for name in made:
        manifest[name] = describe(os.path.join(root, name))
        with zipfile.ZipFile(os.path.join(root, name)) as z:
            manifest[name]["comment_hex"] = z.comment.hex()
            manifest[name]["methods"] = sorted({i.compress_type for i in z.infolist()})
            manifest[name]["descriptors"] = any(i.flag_bits & 8 for i in z.infolist())
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
