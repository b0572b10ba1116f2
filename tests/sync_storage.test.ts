// The adapters' file storage (`fileStorage(dir)`), under the runtime running
// this file: the same contract as MemoryStorage, on real files in a
// temporary directory, plus what only files can show (atomic replacement
// leaves no temporary file, a new storage sees what an old one wrote).
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import "./_guard.ts";
import { MemoryStorage, type Storage, StorageError } from "../mod.ts";
import { adapter } from "./_runtime.ts";

const root = await fs.mkdtemp(path.join(os.tmpdir(), "soter-storage-"));
after(() => fs.rm(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => path.join(root, `d${n++}`);

async function rejectsWith(p: Promise<unknown>, kind: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof StorageError, `not a StorageError: ${err}`);
    assert.equal(err.kind, kind, err.message);
    return true;
  });
}

const bytes = (...b: number[]) => new Uint8Array(b);

function contract(name: string, make: () => Storage): void {
  describe(`${name} storage contract`, () => {
    it("reads undefined for a missing file, and its size as undefined", async () => {
      const s = make();
      assert.equal(await s.read("none"), undefined);
      assert.equal(await s.size("none"), undefined);
    });

    it("replaces a file atomically and reads it back", async () => {
      const s = make();
      await s.writeAtomic("a.json", bytes(1, 2, 3));
      await s.writeAtomic("a.json", bytes(4, 5));
      assert.deepEqual(await s.read("a.json"), bytes(4, 5));
      assert.equal(await s.size("a.json"), 2);
    });

    it("appends, returning each offset, even when appends are not awaited one by one", async () => {
      const s = make();
      const offsets = await Promise.all([
        s.append("log", bytes(1, 2)),
        s.append("log", bytes(3)),
        s.append("log", bytes(4, 5, 6)),
      ]);
      assert.deepEqual(offsets, [0, 2, 3]);
      assert.deepEqual(await s.read("log"), bytes(1, 2, 3, 4, 5, 6));
      assert.deepEqual(await s.readRange("log", 2, 3), bytes(3, 4, 5));
      assert.deepEqual(await s.readRange("log", 6, 0), bytes());
    });

    it("rejects reads past the end and of missing files with typed errors", async () => {
      const s = make();
      await s.append("log", bytes(1, 2, 3));
      await rejectsWith(s.readRange("log", 2, 2), "out-of-range");
      await rejectsWith(s.readRange("log", -1, 1), "out-of-range");
      await rejectsWith(s.readRange("missing", 0, 1), "not-found");
    });

    it("truncates, refusing to lengthen or to truncate a missing file", async () => {
      const s = make();
      await s.append("log", bytes(1, 2, 3, 4));
      await s.truncate("log", 1);
      assert.deepEqual(await s.read("log"), bytes(1));
      assert.equal(await s.append("log", bytes(9)), 1);
      await rejectsWith(s.truncate("log", 10), "out-of-range");
      await rejectsWith(s.truncate("missing", 0), "not-found");
    });

    it("renames over an existing file and removes files, missing ones too", async () => {
      const s = make();
      await s.writeAtomic("a", bytes(1));
      await s.writeAtomic("b", bytes(2));
      await s.rename("a", "b");
      assert.equal(await s.read("a"), undefined);
      assert.deepEqual(await s.read("b"), bytes(1));
      await rejectsWith(s.rename("a", "c"), "not-found");
      await s.remove("b");
      await s.remove("b");
      assert.equal(await s.read("b"), undefined);
    });

    it("refuses names with path separators or dots as invalid-name, by rejecting", async () => {
      const s = make();
      for (const bad of ["", ".", "..", "a/b", "a\\b", "../x"]) {
        await rejectsWith(s.read(bad), "invalid-name");
        await rejectsWith(s.append(bad, bytes(1)), "invalid-name");
        await rejectsWith(s.writeAtomic(bad, bytes(1)), "invalid-name");
      }
      await s.writeAtomic("ok", bytes(1));
      await rejectsWith(s.rename("ok", "../escape"), "invalid-name");
    });
  });
}

contract("memory", () => new MemoryStorage());
contract("file", () => adapter.fileStorage(fresh()));

describe("fileStorage on disk", () => {
  it("creates its directory on the first write and leaves no temporary file", async () => {
    const dir = path.join(fresh(), "nested", "deeper");
    const s = adapter.fileStorage(dir);
    await s.writeAtomic("peers.json", new TextEncoder().encode("[]"));
    await s.writeAtomic("peers.json", new TextEncoder().encode("[1]"));
    assert.deepEqual(await fs.readdir(dir), ["peers.json"]);
    assert.equal(await fs.readFile(path.join(dir, "peers.json"), "utf8"), "[1]");
  });

  it("shows a second storage on the same directory what the first wrote", async () => {
    const dir = fresh();
    const a = adapter.fileStorage(dir);
    await a.append("blocks.dat", bytes(1, 2, 3));
    const b = adapter.fileStorage(dir);
    assert.equal(await b.append("blocks.dat", bytes(4)), 3);
    assert.deepEqual(await a.read("blocks.dat"), bytes(1, 2, 3, 4));
  });

  it("reports an io error when the directory cannot be made", async () => {
    const file = path.join(fresh() + "-file");
    await fs.writeFile(file, "not a directory");
    const s = adapter.fileStorage(path.join(file, "sub"));
    await rejectsWith(s.append("x", bytes(1)), "io");
  });
});
