"""`npio scan` against the public pickle scanners' test data and fickling's
bypasses (issue 9).

- every file of ../shared/data/scanner-corpus/ (see its README and expected.tsv):
  in scope, `dangerous` exits 3 and lists the expected globals, `safe` exits 0
  (files that are not pickles exit 1); out of scope (zips of .pkl members, 7z)
  never crash (exit 0-3, no signal). These files are never unpickled here.
- the hostile pickles of tests/data/generate_scan_cases.py (fickling's bypass and
  crash pickles rebuilt opcode by opcode, frame evasions, issue 9's cases).

Usage: python3 test_scan_corpus.py PATH_TO_npio
"""
import _compat_pickle
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "data"))
import generate_scan_cases  # noqa: E402

NPIO = None
CORPUS = os.path.join(HERE, "..", "..", "..", "shared", "data", "scanner-corpus")


def scan(path, *extra):
    p = subprocess.run([NPIO, "scan", *extra, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def rows():
    with open(os.path.join(CORPUS, "expected.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            cols += [""] * (5 - len(cols))
            yield cols[:5]


class TestScannerCorpus(unittest.TestCase):
    def test_corpus(self):
        if not os.path.isdir(CORPUS):
            self.skipTest("no ../shared/data/scanner-corpus")
        n = 0
        for file, kind, scope, expected, globs in rows():
            path = os.path.join(CORPUS, file)
            with self.subTest(file=file):
                code, out, err = scan(path)
                n += 1
                self.assertIn(code, (0, 1, 2, 3), f"{file}: crashed ({code})\n{err}")
                if scope != "in":
                    continue
                if kind == "not-pickle":
                    self.assertIn(code, (0, 1), f"{file}\n{out}{err}")
                    continue
                if expected == "safe":
                    self.assertEqual(code, 0, f"{file}\n{out}{err}")
                    continue
                self.assertEqual(code, 3, f"{file}\n{out}{err}")
                for pair in filter(None, globs.split(";")):
                    module, name = pair.split(" ", 1)
                    # picklescan writes `unknown` for a STACK_GLOBAL operand it cannot
                    # resolve; npio names those <computed> (or the stream breaks first)
                    if "unknown" in (module, name):
                        continue
                    # names are listed as CPython's fix_imports maps them (protocol < 3)
                    alts = {(module, name),
                            _compat_pickle.NAME_MAPPING.get((module, name), (module, name)),
                            (_compat_pickle.IMPORT_MAPPING.get(module, module), name)}
                    line = [ln for ln in out.splitlines()
                            if any(f" {m}.{n}  (" in ln for m, n in alts)]
                    self.assertTrue(line, f"{file}: {module}.{name} not listed\n{out}")
                    self.assertTrue(line[0].startswith("dangerous"), f"{file}\n{out}")
        self.assertGreater(n, 100)

    def test_no_python_unpickling_needed(self):
        # the corpus stays bytes to us: `npio json` refuses the dangerous ones
        path = os.path.join(CORPUS, "picklescan", "data", "malicious1_v4.pkl")
        if not os.path.exists(path):
            self.skipTest("no corpus")
        p = subprocess.run([NPIO, "json", "--allow-pickle", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertNotEqual(p.returncode, 0)


class TestScanCases(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def test_cases(self):
        for name, data, status, names in generate_scan_cases.cases():
            with self.subTest(case=name):
                path = os.path.join(self.dir.name, name + ".pkl")
                with open(path, "wb") as f:
                    f.write(data)
                code, out, err = scan(path)
                self.assertEqual(code, status, f"{name}\n{out}{err}")
                for n in names:
                    self.assertIn(f" {n}  (", out, f"{name}\n{out}")

    def test_escaped_output(self):
        data = dict((n, d) for n, d, _, _ in generate_scan_cases.cases())["escape_name"]
        path = os.path.join(self.dir.name, "e.pkl")
        with open(path, "wb") as f:
            f.write(data)
        code, out, err = scan(path)
        self.assertEqual(code, 2)
        for ch in "\x1b\r":
            self.assertNotIn(ch, out + err)
        self.assertEqual(len(out.splitlines()), 1, out)

    def test_frame_report(self):
        data = dict((n, d) for n, d, _, _ in generate_scan_cases.cases())["frame_boundary_small"]
        path = os.path.join(self.dir.name, "f.pkl")
        with open(path, "wb") as f:
            f.write(data)
        code, out, err = scan(path)
        self.assertEqual(code, 3)
        self.assertIn("anomaly   frame: pickle exhausted before end of frame", out)
        self.assertIn("(at byte 11)", err)

    def test_concatenated(self):
        cases = dict((n, d) for n, d, _, _ in generate_scan_cases.cases())
        path = os.path.join(self.dir.name, "c.pkl")
        with open(path, "wb") as f:
            f.write(cases["concatenated"])
        code, out, _ = scan(path)
        self.assertEqual(code, 3)
        self.assertIn("anomaly   trailing:", out)
        self.assertIn("pickles   2 read one after another", out)
        # json reads the first pickle, as np.load
        p = subprocess.run([NPIO, "json", "--allow-pickle", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout), {"pickle": None})

    def test_encoding_option(self):
        cases = dict((n, d) for n, d, _, _ in generate_scan_cases.cases())
        path = os.path.join(self.dir.name, "p.pkl")
        with open(path, "wb") as f:
            f.write(cases["py2_string_names"])
        self.assertEqual(scan(path, "--encoding", "ascii")[0], 3)
        # bytes: CPython's STACK_GLOBAL refuses bytes operands, nothing runs
        self.assertEqual(scan(path, "--encoding", "bytes")[0], 1)


if __name__ == "__main__":
    NPIO = sys.argv.pop(1)
    unittest.main(verbosity=1)
