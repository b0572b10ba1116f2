# Shared by scripts/test.sh and scripts/stress.sh (sourced, not run): puts
# Deno, Bun and tsx on PATH and runs the test suite under one runtime.

export DENO_NO_UPDATE_CHECK=1
# Deno comes from the npm registry through npx (cached after the first run)
# rather than from devDependencies: a `deno` in node_modules/.bin would make
# `deno task` run the native binary as if it were JavaScript (deno#27114).
DENO_BIN_DIR=$(dirname "$(npx -y -p deno@2.9.6 -c 'command -v deno')")
export PATH="$PWD/node_modules/.bin:$DENO_BIN_DIR:$PATH"
[ -d node_modules/tsx ] || { echo "node_modules is empty: run 'npm install' first" >&2; exit 1; }

# suite RUNTIME: the whole suite in tests/ under deno, bun or node (tsx).
suite() {
  case "$1" in
    deno) deno test -A --quiet tests/ ;;
    bun) bun test --timeout 180000 tests/ ;; # per test; a guard against hangs only
    node) node --import tsx --test --test-reporter=spec tests/*.test.ts ;;
    *)
      echo "unknown runtime: $1 (deno, bun or node)" >&2
      return 2
      ;;
  esac
}
