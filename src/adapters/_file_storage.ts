/**
 * The file operations of `node:fs/promises` for {@linkcode FileStorage},
 * shared by the Node and Bun adapters.
 *
 * @module
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { FileOps } from "./_storage_common.ts";

/** {@linkcode FileOps} on `node:fs/promises`. */
export const nodeFileOps: FileOps = {
  join: (dir, name) => path.join(dir, name),
  mkdirs: async (dir) => {
    await fs.mkdir(dir, { recursive: true });
  },
  readFile: async (p) => {
    const b = await fs.readFile(p);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  },
  writeSynced: async (p, data) => {
    const fh = await fs.open(p, "w");
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  append: async (p, data) => {
    const fh = await fs.open(p, "a");
    try {
      const { size } = await fh.stat();
      let done = 0;
      while (done < data.length) done += (await fh.write(data, done, data.length - done)).bytesWritten;
      return size;
    } finally {
      await fh.close();
    }
  },
  readAt: async (p, into, offset) => {
    const fh = await fs.open(p, "r");
    try {
      return (await fh.read(into, 0, into.length, offset)).bytesRead;
    } finally {
      await fh.close();
    }
  },
  size: async (p) => (await fs.stat(p)).size,
  truncate: (p, length) => fs.truncate(p, length),
  rename: (from, to) => fs.rename(from, to),
  remove: (p) => fs.rm(p),
  isNotFound: (err) => typeof err === "object" && err !== null && (err as { code?: string }).code === "ENOENT",
};
