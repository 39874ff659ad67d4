#!/usr/bin/env bash
# Prints the path of a working Python X.Y interpreter, or nothing.
# A pyenv shim can exist without its version being active, so each candidate is run once.
set -u
version=$1
candidates=("python$version" "/usr/bin/python$version" "/usr/local/bin/python$version")
for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin; do
  candidates+=("$dir/python$version")
done
for candidate in "${candidates[@]}"; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if "$path" -c "import sys, venv; assert sys.version_info[:2] == tuple(map(int, '$version'.split('.')))" >/dev/null 2>&1; then
    echo "$path"
    exit 0
  fi
done
exit 0
