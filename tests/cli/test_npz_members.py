#!/usr/bin/python3
"""npio json / from-json on .npz archives with members that are not .npy files
and with names that are not ASCII, checked against NumPy and zipfile.

Usage: test_npz_members.py PATH_TO_npio

shared/spec/json.md: an archive's document lists every member in archive
order under its name without ".npy"; a member that is not an .npy file is
{"$bytes": BASE64}. `from-json` writes such members back under their names,
so json -> from-json -> json gives the same document, and np.load of the
written archive sees the same keys, arrays and bytes as np.load of the first.
"""
import base64
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

from checks import check, finish, npio


def npy_bytes(a):
    b = io.BytesIO()
    np.save(b, a)
    return b.getvalue()


def patch_names(path, raw_names):
    """Replaces ASCII placeholder names (same length) by raw bytes in the local
    and central headers, leaving the UTF-8 flag clear: zipfile cannot write
    such names itself."""
    assert all(len(k) == len(v) for k, v in raw_names.items()), raw_names
    data = bytearray(open(path, "rb").read())
    with zipfile.ZipFile(path) as z:
        infos, cd = z.infolist(), z.start_dir
    for info in infos:
        if info.filename in raw_names:
            off = info.header_offset
            nlen = struct.unpack_from("<H", data, off + 26)[0]
            data[off + 30:off + 30 + nlen] = raw_names[info.filename]
    p = cd
    while data[p:p + 4] == b"PK\x01\x02":
        nlen, xlen, clen = struct.unpack_from("<HHH", data, p + 28)
        name = bytes(data[p + 46:p + 46 + nlen]).decode("ascii", "replace")
        if name in raw_names:
            data[p + 46:p + 46 + nlen] = raw_names[name]
        p += 46 + nlen + xlen + clen
    open(path, "wb").write(bytes(data))


def numpy_view(path):
    """np.load's view: [(key, ('array', dtype str, shape, fortran, bytes) | ('bytes', b))]."""
    out = []
    with np.load(path, allow_pickle=False) as z:
        for k in z.files:
            v = z[k]
            if isinstance(v, np.ndarray):
                fortran = bool(v.flags.f_contiguous and not v.flags.c_contiguous)
                out.append((k, ("array", v.dtype.str, v.shape, fortran, v.tobytes("A"))))
            else:
                out.append((k, ("bytes", bytes(v))))
    return out


with tempfile.TemporaryDirectory() as tmp:
    def p(name):
        return os.path.join(tmp, name)

    # An archive by CPython's zipfile: arrays, and members that are not .npy
    # files, stored, deflated and bzip2'd, one in a folder, one empty, one with
    # a flagged UTF-8 name, one with a cp437 name (flag clear), and an
    # ".npy"-named member whose bytes are not an .npy file.
    all_bytes = bytes(range(256)) * 3
    src = p("src.npz")
    with zipfile.ZipFile(src, "w") as z:
        z.writestr("a.npy", npy_bytes(np.arange(6, dtype="<i4").reshape(2, 3)))
        z.writestr("notes.txt", b"not an array\n")
        z.writestr("d/data.bin", all_bytes, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("empty", b"")
        z.writestr("caf\u00e9.txt", "UTF-8 name".encode(), compress_type=zipfile.ZIP_BZIP2)
        z.writestr("Pcp437.bin", b"cp437 name")
        z.writestr("f.npy", npy_bytes(np.asfortranarray(np.ones((2, 2), ">f8"))))
        z.writestr("fake.npy", b"NOT NUMPY")
    patch_names(src, {"Pcp437.bin": b"r\x82sum\x82.bin"})
    before = numpy_view(src)
    check("fixture: zipfile decodes the cp437 name",
          [k for k, _ in before][5] == "r\u00e9sum\u00e9.bin", [k for k, _ in before])

    # npio json: every member in archive order, non-.npy members as $bytes.
    r = npio("json", src)
    check("json exit", r.returncode == 0, r.stderr)
    doc1 = r.stdout
    try:
        members = json.loads(doc1)["members"]
    except ValueError as e:
        members = {}
        check("json parses", False, e)
    check("json keys are np.load's files", list(members) == [k for k, _ in before],
          (list(members), [k for k, _ in before]))
    for k, v in before:
        if v[0] == "bytes":
            want = {"$bytes": base64.b64encode(v[1]).decode("ascii")}
            check("json $bytes " + k, members.get(k) == want, (members.get(k), want))
        else:
            check("json array " + k, isinstance(members.get(k), dict)
                  and "dtype" in members[k], members.get(k))

    # from-json writes it back; json of that is the same document, byte for byte.
    open(p("doc.json"), "wb").write(doc1)
    out = p("out.npz")
    r = npio("from-json", p("doc.json"), out)
    check("from-json exit", r.returncode == 0, r.stderr)
    check("from-json quiet", r.stdout == b"" and r.stderr == b"", r.stderr)
    r = npio("json", out)
    check("round trip exact", r.returncode == 0 and r.stdout == doc1,
          (r.stderr, r.stdout[:300], doc1[:300]))

    # NumPy sees the same keys, arrays and bytes.
    after = numpy_view(out)
    check("numpy view equal", after == before, (after, before))
    # zipfile sees the same names, except that a non-.npy member called
    # "x.npy" comes back as "x" (the document only has its key).
    with zipfile.ZipFile(src) as zs, zipfile.ZipFile(out) as zo:
        check("zipfile testzip", zo.testzip() is None)
        want_names = [("fake" if n == "fake.npy" else n) for n in zs.namelist()]
        check("zipfile names", zo.namelist() == want_names, (zo.namelist(), want_names))
        for n in zs.namelist():
            o = "fake" if n == "fake.npy" else n
            check("zipfile bytes " + n, zs.read(n) == zo.read(o))
        flags = {i.filename: bool(i.flag_bits & 0x800) for i in zo.infolist()}
        check("UTF-8 flag on non-ASCII names only",
              flags == {n: any(ord(c) > 127 for c in n) for n in zo.namelist()}, flags)
    u = subprocess.run(["unzip", "-tq", out], capture_output=True)
    check("unzip -t", u.returncode == 0, u.stdout + u.stderr)

    # Documents from-json refuses: one line on stderr naming the input, exit 1,
    # nothing written.
    arr = {"dtype": "<i8", "shape": [1], "fortran_order": False, "data": [1]}
    bad = {
        "bytes not a string": ({"x": {"$bytes": 5}},
                               'member "x": "$bytes" must be a string'),
        "bad base64": ({"x": {"$bytes": "abc"}},
                       'member "x": base64 text length is not a multiple of 4'),
        "same stored name": ({"x": arr, "x.npy": {"$bytes": ""}},
                             "member \"x.npy\": another member is also stored as 'x.npy'"),
    }
    for name, (m, message) in bad.items():
        path = p("bad.json")
        open(path, "w").write(json.dumps({"members": m}))
        target = p("bad.npz")
        r = npio("from-json", path, target)
        err = r.stderr.decode()
        check("refused " + name, r.returncode == 1 and err == f"npio: {path}: {message}\n",
              (r.returncode, err))
        check("nothing written " + name, not os.path.exists(target))
    leftovers = [f for f in os.listdir(tmp) if f.startswith(".")]
    check("no temporary files left", leftovers == [], leftovers)

finish()
