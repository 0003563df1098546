#!/usr/bin/python3
"""Self-test of tools/checksrc.py: a tree with known violations must fail with each one
reported, and a clean tree must pass. Guards against a lint that silently checks nothing."""
import os
import subprocess
import sys
import tempfile

checksrc = sys.argv[1]
bad = {
    "src/base/bad.c": '/* x */\n#include <time.h>\nvoid f(char *d) { strcpy(d, "a"); }\n'
                      "void g(void) { void *p = malloc(3); free(p); }\n",
    "src/net/ok_time.c": "/* the shell may read clocks */\n#include <time.h>\n",
    "src/crypto/nocomment.c": "int x;\n",
    "tests/t.c": 'int h(void) { return atoi("1"); } /* "sprintf(" in a comment is fine */\n',
    "src/store/allowed.c": "/* y */\n/* octo-lint: allow BANNEDFUNC 1 */\nint k(void) "
                           "{ return rand(); }\n",
}
expect = ["src/base/bad.c:2: PUREINCLUDE", "src/base/bad.c:3: BANNEDFUNC: strcpy",
          "src/base/bad.c:4: BANNEDFUNC: raw malloc", "src/base/bad.c:4: BANNEDFUNC: raw free",
          "src/crypto/nocomment.c:1: DESIGNCOMMENT", "tests/t.c:1: BANNEDFUNC: atoi"]
unexpected = ["ok_time.c", "allowed.c", "sprintf"]

with tempfile.TemporaryDirectory() as root:
    for rel, text in bad.items():
        os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
        with open(os.path.join(root, rel), "w") as f:
            f.write(text)
    r = subprocess.run([sys.executable, checksrc, root], capture_output=True, text=True)
    failed = r.returncode != 1
    for e in expect:
        if e not in r.stdout:
            print("missing report:", e)
            failed = True
    for u in unexpected:
        if u in r.stdout:
            print("false positive:", u)
            failed = True
    print(r.stdout)
with tempfile.TemporaryDirectory() as root:
    os.makedirs(os.path.join(root, "src/base"))
    with open(os.path.join(root, "src/base/ok.c"), "w") as f:
        f.write("/* fine */\nint ok(void) { return 0; }\n")
    r = subprocess.run([sys.executable, checksrc, root], capture_output=True, text=True)
    if r.returncode != 0:
        print("clean tree failed:", r.stdout)
        failed = True
sys.exit(1 if failed else 0)
