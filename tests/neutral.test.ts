// The core is runtime-neutral: mod.ts, every .ts under src/ and everything
// they import use only Web APIs, except the runtime modules of
// src/adapters/ (deno.ts, bun.ts, node.ts, native_hash.ts, and the file
// operations of fileStorage: _deno_storage.ts on Deno's API,
// _file_storage.ts on node:fs for Node and Bun). The adapters' other
// shared files (errors.ts, types.ts, _*.ts) are held to the same rule, so
// mod.ts may export ConnectionError and the listener types. This test reads
// the sources as text and fails on any runtime API or runtime import.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const adapters = join(root, "src", "adapters");
const RUNTIME = new Set(
  ["deno.ts", "bun.ts", "node.ts", "native_hash.ts", "_deno_storage.ts", "_file_storage.ts"].map((f) =>
    join(adapters, f)
  ),
);

const FORBIDDEN: Array<[RegExp, string]> = [
  [/\bDeno\s*\./, "Deno."],
  [/\bBun\s*\./, "Bun."],
  [/\bprocess\s*\./, "process."],
  [/\brequire\s*\(/, "require("],
  [/\bfrom\s*["']node:/, 'from "node:'],
  [/\bimport\s*\(\s*["']node:/, 'import("node:'],
  [/["'](?:npm|jsr):/, "npm:/jsr: specifier"],
];

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g;

/** Drops comments so that prose about runtimes does not count. */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      return tsFiles(path);
    }
    return path.endsWith(".ts") && !RUNTIME.has(path) ? [path] : [];
  });
}

/** The core files: mod.ts, src/ but the runtime modules, and their imports. */
function coreFiles(): Map<string, string> {
  const seen = new Map<string, string>();
  const queue = [join(root, "mod.ts"), ...tsFiles(join(root, "src"))];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file) || RUNTIME.has(file)) continue;
    if (!existsSync(file)) continue; // reported by deno check, not here
    const text = readFileSync(file, "utf8");
    seen.set(file, text);
    for (const [, spec] of code(text).matchAll(IMPORT)) {
      if (spec!.startsWith(".")) queue.push(resolve(dirname(file), spec!));
    }
  }
  return seen;
}

describe("runtime neutrality", () => {
  it("the core names no runtime API", () => {
    const files = coreFiles();
    assert.ok(files.size > 1, "no core files found");
    const problems: string[] = [];
    for (const [file, text] of files) {
      const lines = code(text).split("\n");
      lines.forEach((line, i) => {
        for (const [pattern, what] of FORBIDDEN) {
          if (pattern.test(line)) {
            problems.push(`${relative(root, file)}:${i + 1}: ${what}`);
          }
        }
      });
    }
    assert.deepEqual(problems, [], "runtime APIs in the core");
  });

  it("the core does not import the runtime modules", () => {
    for (const [file, text] of coreFiles()) {
      for (const [, spec] of code(text).matchAll(IMPORT)) {
        const target = resolve(dirname(file), spec!);
        assert.ok(
          !spec!.startsWith(".") || !RUNTIME.has(target),
          `${relative(root, file)} imports ${spec}`,
        );
      }
    }
  });
});
