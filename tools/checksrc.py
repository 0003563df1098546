#!/usr/bin/python3
"""checksrc — the project's source lint (in the spirit of curl's checksrc).

Checks every C file under src/, tests/, fuzz/ and bench/:
  BANNEDFUNC   sprintf, vsprintf, strcpy, strcat, strtok, atoi, atol, atoll, gets, rand,
               srand, and raw malloc/calloc/realloc/free outside src/base/alloc.c
  PUREINCLUDE  socket, clock and thread headers inside the pure modules (src/base, src/wire,
               src/crypto, src/p2p)
  DESIGNCOMMENT  a .c or .h file under src/ must open with a /* design comment */
  TRAILINGSPACE, TAB  whitespace hygiene

An exception is an inline comment on the line before: /* octo-lint: allow NAME [N] */ allows
the named check on the next N lines (default 1). Exit status 1 when anything is found.
"""
import os
import re
import sys

BANNED = ["sprintf", "vsprintf", "strcpy", "strcat", "strtok", "atoi", "atol", "atoll",
          "gets", "rand", "srand"]
ALLOC = ["malloc", "calloc", "realloc", "free"]
PURE_DIRS = ["src/base/", "src/wire/", "src/crypto/", "src/p2p/", "src/chain/", "src/intel/", "src/infer/"]
PURE_BANNED_HEADERS = ["sys/socket.h", "netinet/", "arpa/inet.h", "netdb.h", "time.h",
                       "sys/time.h", "pthread.h", "threads.h", "unistd.h", "uv.h",
                       "sys/epoll.h", "poll.h"]
SCAN_DIRS = ["src", "tests", "fuzz", "bench"]

call_re = {name: re.compile(r"(?<![\w.>])" + name + r"\s*\(") for name in BANNED + ALLOC}
include_re = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')
allow_re = re.compile(r"octo-lint:\s*allow\s+(\w+)(?:\s+(\d+))?")


def strip_strings_and_comments(line, in_comment):
    """Removes string/char literals and comments so that words inside them do not count."""
    out = []
    i = 0
    while i < len(line):
        if in_comment:
            end = line.find("*/", i)
            if end < 0:
                return "".join(out), True
            i = end + 2
            in_comment = False
            continue
        c = line[i]
        if line.startswith("/*", i):
            in_comment = True
            i += 2
            continue
        if line.startswith("//", i):
            break
        if c in "\"'":
            q = c
            i += 1
            while i < len(line) and line[i] != q:
                i += 2 if line[i] == "\\" else 1
            i += 1
            out.append(q + q)
            continue
        out.append(c)
        i += 1
    return "".join(out), in_comment


def check_file(path, rel, problems):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    pure = any(rel.startswith(d) for d in PURE_DIRS)
    alloc_ok = rel == "src/base/alloc.c"
    allowed = {}  # check name -> remaining lines
    in_comment = False
    if rel.startswith("src/") and not lines[0].startswith("/*"):
        problems.append(f"{rel}:1: DESIGNCOMMENT: file must start with a design comment")
    for no, raw in enumerate(lines, 1):
        m = allow_re.search(raw)
        active = {k for k, v in allowed.items() if v > 0}
        allowed = {k: v - 1 for k, v in allowed.items() if v > 1}
        if m:
            allowed[m.group(1)] = int(m.group(2) or 1)
        if raw.rstrip() != raw:
            problems.append(f"{rel}:{no}: TRAILINGSPACE")
        if "\t" in raw and not rel.endswith(".txt"):
            problems.append(f"{rel}:{no}: TAB: use spaces")
        inc = include_re.match(raw)
        if inc and pure and "PUREINCLUDE" not in active:
            header = inc.group(1)
            if any(header == b or (b.endswith("/") and header.startswith(b))
                   for b in PURE_BANNED_HEADERS):
                problems.append(f"{rel}:{no}: PUREINCLUDE: <{header}> in a pure module")
        code, in_comment = strip_strings_and_comments(raw, in_comment)
        if "BANNEDFUNC" in active:
            continue
        for name in BANNED:
            if call_re[name].search(code):
                problems.append(f"{rel}:{no}: BANNEDFUNC: {name}()")
        if not alloc_ok:
            for name in ALLOC:
                if call_re[name].search(code):
                    problems.append(f"{rel}:{no}: BANNEDFUNC: raw {name}() (use octo_{name})")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))
    problems = []
    count = 0
    for d in SCAN_DIRS:
        for dirpath, _, files in os.walk(os.path.join(root, d)):
            for name in sorted(files):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                check_file(path, rel, problems)
                count += 1
    for p in problems:
        print(p)
    print(f"checksrc: {count} files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
