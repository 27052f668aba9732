#!/usr/bin/python3
"""Checks that every snippet of examples/guide/*.cpp marked `// [tag]` ... `// [tag]`
appears verbatim (dedented by its indent) in docs/guide.md.
  check_doc.py SOURCE_DIR"""

import pathlib
import re
import sys


def main():
    root = pathlib.Path(sys.argv[1])
    guide = (root / "docs" / "guide.md").read_text()
    bad = 0
    for src in sorted((root / "examples" / "guide").glob("*.cpp")):
        text = src.read_text()
        for m in re.finditer(r"^( *)// \[([\w-]+)\]\n(.*?)^\1// \[\2\]\n", text, re.S | re.M):
            indent = len(m.group(1))
            body = "\n".join(l[indent:] for l in m.group(3).rstrip("\n").split("\n"))
            if body not in guide:
                print("docs/guide.md lacks the current snippet [%s] of %s" % (m.group(2), src.name))
                bad += 1
    if bad:
        sys.exit(1)
    print("guide snippets in step")


if __name__ == "__main__":
    main()
