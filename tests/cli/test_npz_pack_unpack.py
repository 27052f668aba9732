#!/usr/bin/python3
"""npio pack / npio unpack against NumPy and zipfile.

Usage: test_npz_pack_unpack.py PATH_TO_npio
"""
import io
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

import checks
from checks import NPIO, check, finish


def npio(*args, cwd=None):
    return checks.npio(*args, cwd=cwd, text=True)


def npy_bytes(a):
    b = io.BytesIO()
    np.save(b, a)
    return b.getvalue()


with tempfile.TemporaryDirectory() as tmp:
    def p(*names):
        return os.path.join(tmp, *names)

    arrays = {
        "a": np.arange(20, dtype="<i4").reshape(4, 5),
        "b": np.asfortranarray(np.linspace(0, 1, 12, dtype=">f8").reshape(3, 4)),
        "c": np.array(["x", "yz"], dtype="<U2"),
        "d": np.zeros((0,), dtype="<u1"),
    }
    for k, a in arrays.items():
        np.save(p(k + ".npy"), a)

    # pack: NAME=FILE and bare FILE (named by its stem); .npz appended as np.savez does.
    r = npio("pack", p("out"), "first=" + p("a.npy"), p("b.npy"), p("c.npy"), p("d.npy"))
    check("pack exit", r.returncode == 0, r.stderr)
    check("pack quiet", r.stderr == "" and r.stdout == "", r.stderr + r.stdout)
    check("pack suffix", os.path.exists(p("out.npz")))
    with np.load(p("out.npz")) as z:
        check("pack names", z.files == ["first", "b", "c", "d"], z.files)
        check("pack a", np.array_equal(z["first"], arrays["a"]) and z["first"].dtype == arrays["a"].dtype)
        check("pack b", np.array_equal(z["b"], arrays["b"]) and z["b"].dtype.str == ">f8"
              and z["b"].flags.f_contiguous)
        check("pack c", np.array_equal(z["c"], arrays["c"]))
        check("pack d", z["d"].shape == (0,))
    with zipfile.ZipFile(p("out.npz")) as zf:
        check("pack stored", all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist()))
        check("pack crc", zf.testzip() is None)
        # Member bytes equal what np.save writes for the same array.
        check("pack bytes", zf.read("first.npy") == open(p("a.npy"), "rb").read())
    check("unzip -t", subprocess.run(["unzip", "-tq", p("out.npz")],
                                      capture_output=True).returncode == 0)

    r = npio("pack", p("comp.npz"), p("a.npy"), p("b.npy"), "--compress")
    check("pack -z exit", r.returncode == 0, r.stderr)
    with zipfile.ZipFile(p("comp.npz")) as zf:
        check("pack -z deflate",
              all(i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist()))
        check("pack -z crc", zf.testzip() is None)
    with np.load(p("comp.npz")) as z:
        check("pack -z data", np.array_equal(z["a"], arrays["a"]) and np.array_equal(z["b"], arrays["b"]))

    r = npio("pack", p("bad.npz"), p("missing.npy"))
    check("pack missing exit", r.returncode == 1, r.returncode)
    check("pack missing msg", r.stderr.startswith("npio: ") and "missing.npy" in r.stderr, r.stderr)
    check("pack missing no output", not os.path.exists(p("bad.npz")))
    r = npio("pack", p("dup.npz"), "x=" + p("a.npy"), "x=" + p("b.npy"))
    check("pack dup exit", r.returncode == 1, r.stderr)
    check("pack dup msg", r.stderr == f"npio: {p('dup.npz')}: member name 'x' given twice\n",
          r.stderr)

    # unpack an archive NumPy wrote (compressed): files equal the members.
    np.savez_compressed(p("np.npz"), **arrays)
    r = npio("unpack", p("np.npz"), p("outdir"))
    check("unpack exit", r.returncode == 0, r.stderr)
    check("unpack quiet", r.stderr == "", r.stderr)
    with zipfile.ZipFile(p("np.npz")) as zf:
        for name in zf.namelist():
            got = open(p("outdir", name), "rb").read() if os.path.exists(p("outdir", name)) else None
            check("unpack " + name, got == zf.read(name))
    check("unpack loads", np.array_equal(np.load(p("outdir", "b.npy")), arrays["b"]))

    # The same through zlib's streaming path (taken above 1 GiB of compressed data;
    # NPIO_ZIP_STREAM_ABOVE lowers the threshold), including its size checks.
    env = dict(os.environ, NPIO_ZIP_STREAM_ABOVE="0")
    r = subprocess.run([NPIO, "unpack", p("np.npz"), p("streamdir")], env=env,
                       capture_output=True, text=True)
    check("stream exit", r.returncode == 0, r.stderr)
    with zipfile.ZipFile(p("np.npz")) as zf:
        for name in zf.namelist():
            check("stream " + name, open(p("streamdir", name), "rb").read() == zf.read(name))
        info = zf.getinfo("a.npy")
        cd = zf.start_dir
    data = bytearray(open(p("np.npz"), "rb").read())
    # Declare one byte less for a.npy in the central directory: inflation must stop.
    at = data.index(b"PK\x01\x02", cd)
    while data[at + 46: at + 46 + 5] != b"a.npy":
        at = data.index(b"PK\x01\x02", at + 4)
    usize = int.from_bytes(data[at + 24: at + 28], "little")
    data[at + 24: at + 28] = (usize - 1).to_bytes(4, "little")
    open(p("lie.npz"), "wb").write(bytes(data))
    r = subprocess.run([NPIO, "unpack", p("lie.npz"), p("liedir")], env=env,
                       capture_output=True, text=True)
    check("stream lie", r.returncode == 1 and r.stderr ==
          f"npio: {p('lie.npz')}: a.npy: deflate data inflates past the declared size {usize - 1}\n",
          r.stderr)
    data[at + 24: at + 28] = (usize + 5).to_bytes(4, "little")
    open(p("lie2.npz"), "wb").write(bytes(data))
    r = subprocess.run([NPIO, "unpack", p("lie2.npz"), p("liedir2")], env=env,
                       capture_output=True, text=True)
    check("stream short", r.returncode == 1 and r.stderr ==
          f"npio: {p('lie2.npz')}: a.npy: deflate data ends after {usize} of {usize + 5} "
          f"declared bytes\n", r.stderr)

    # Members in subdirectories are created below DIR.
    with zipfile.ZipFile(p("sub.npz"), "w") as zf:
        zf.writestr("sub/dir/x.npy", npy_bytes(arrays["a"]))
    r = npio("unpack", p("sub.npz"), p("subout"))
    check("unpack subdir", r.returncode == 0 and os.path.exists(p("subout", "sub", "dir", "x.npy")),
          r.stderr)

    # Unsafe names: refused before anything is written, inside or outside DIR.
    for evil in ["../evil.npy", "/tmp/npio_evil_abs.npy", "a/../../evil2.npy", "C:evil.npy",
                 "a\\..\\evil3.npy"]:
        with zipfile.ZipFile(p("evil.npz"), "w") as zf:
            zf.writestr("ok.npy", npy_bytes(arrays["a"]))
            zf.writestr(zipfile.ZipInfo(evil), npy_bytes(arrays["a"]))
        names = zipfile.ZipFile(p("evil.npz")).namelist()
        r = npio("unpack", p("evil.npz"), p("evildir"))
        check("evil exit " + evil, r.returncode == 1, r.returncode)
        check("evil msg " + evil,
              r.stderr == f"npio: {p('evil.npz')}: unsafe member name '{names[1]}' "
                          f"(nothing was written)\n", r.stderr)
        check("evil nothing " + evil, not os.path.exists(p("evildir", "ok.npy")))
    check("evil outside", not os.path.exists(p("evil.npy")) and not os.path.exists(p("evil2.npy"))
          and not os.path.exists("/tmp/npio_evil_abs.npy"))

    # A symbolic link inside DIR is never followed.
    os.makedirs(p("linkdir"))
    os.makedirs(p("elsewhere"))
    os.symlink(p("elsewhere"), p("linkdir", "sub"))
    r = npio("unpack", p("sub.npz"), p("linkdir"))
    check("symlink exit", r.returncode == 1, r.stderr)
    check("symlink untouched", os.listdir(p("elsewhere")) == [], os.listdir(p("elsewhere")))

    # A corrupt archive: exit 1 with one line naming the file.
    data = bytearray(open(p("out.npz"), "rb").read())
    data[200] ^= 0xFF
    open(p("corrupt.npz"), "wb").write(bytes(data))
    r = npio("unpack", p("corrupt.npz"), p("cdir"))
    check("corrupt exit", r.returncode == 1, r.returncode)
    check("corrupt msg", r.stderr.startswith(f"npio: {p('corrupt.npz')}: ") and
          "CRC-32 mismatch" in r.stderr and r.stderr.count("\n") == 1, r.stderr)

finish()
