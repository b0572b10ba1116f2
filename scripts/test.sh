#!/usr/bin/env bash
# The one test command (`npm test`, after `npm install`): static checks with
# Deno, then the same test suite under Deno, Bun and Node. Fails on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_suite.sh

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
deno check mod.ts cli.ts sim.ts src/ tests/ bench/ examples/
step "README code blocks type-check"
deno check --doc-only README.md
step "JSDoc examples run"
deno test -A --doc --quiet src/ mod.ts
step "deno doc --lint (every entry point)"
deno doc --lint mod.ts src/adapters/deno.ts src/adapters/bun.ts src/adapters/node.ts cli.ts
step "deno publish --dry-run"
deno publish --dry-run --allow-dirty

step "tests under Deno"
suite deno
step "tests under Bun"
suite bun
step "tests under Node (tsx)"
suite node
