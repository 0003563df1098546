#!/bin/sh
# checkformat — fails when a C file differs from what clang-format (the repo's .clang-format)
# would write. Fix with: clang-format -i FILE
set -eu
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"
files=$(find src tests fuzz bench -name '*.c' -o -name '*.h' | sort)
clang-format --dry-run --Werror $files
echo "checkformat: $(echo "$files" | wc -l) files formatted"
