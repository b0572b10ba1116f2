#!/usr/bin/env bash
# The one test command (`npm test`, after `npm install`): static checks with
# Deno, then the same test suite under Deno, Bun and Node. Fails on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export DENO_NO_UPDATE_CHECK=1
# Deno comes from the npm registry through npx (cached after the first run)
# rather than from devDependencies: a `deno` in node_modules/.bin would make
# `deno task` run the native binary as if it were JavaScript (deno#27114).
DENO_BIN_DIR=$(dirname "$(npx -y -p deno@2.9.6 -c 'command -v deno')")
export PATH="$PWD/node_modules/.bin:$DENO_BIN_DIR:$PATH"
[ -d node_modules/tsx ] || { echo "node_modules is empty: run 'npm install' first" >&2; exit 1; }

step() { printf '\n== %s\n' "$*"; }

step "deno.json's npm imports pin the versions of package.json"
# Deno reads npm packages through deno.json's imports (nodeModulesDir none:
# it never looks at node_modules), Bun and Node through node_modules.
node --input-type=module -e '
import { readFileSync } from "node:fs";
const imports = JSON.parse(readFileSync("deno.json", "utf8")).imports ?? {};
const dev = JSON.parse(readFileSync("package.json", "utf8")).devDependencies ?? {};
let bad = 0;
for (const target of Object.values(imports)) {
  const m = /^npm:(@?[^@]+)@(.+)$/.exec(target);
  if (m && dev[m[1]] !== m[2]) {
    console.error(`deno.json imports ${target}, package.json has ${m[1]} ${dev[m[1]] ?? "not at all"}`);
    bad++;
  }
}
process.exit(bad === 0 ? 0 : 1);'
step "deno fmt --check"
deno fmt --check
step "deno lint"
deno lint
step "deno check"
deno check mod.ts cli.ts src/ tests/ bench/ examples/
step "README code blocks type-check"
deno check --doc-only README.md
step "JSDoc examples run"
deno test -A --doc --quiet src/ mod.ts
step "deno doc --lint (every entry point)"
deno doc --lint mod.ts src/adapters/deno.ts src/adapters/bun.ts src/adapters/node.ts cli.ts
step "deno publish --dry-run"
deno publish --dry-run --allow-dirty

step "tests under Deno"
deno test -A --quiet tests/
step "tests under Bun"
bun test --timeout 60000 tests/
step "tests under Node (tsx)"
node --import tsx --test --test-reporter=spec tests/*.test.ts
