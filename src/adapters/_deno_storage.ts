/**
 * Deno's file operations for {@linkcode FileStorage}, for the Deno adapter.
 *
 * @module
 */
import type { FileOps } from "./_storage_common.ts";

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let done = 0;
  while (done < data.length) done += await file.write(data.subarray(done));
}

/** {@linkcode FileOps} on Deno's file APIs. */
export const denoFileOps: FileOps = {
  join: (dir, name) => dir.endsWith("/") || dir.endsWith("\\") ? dir + name : `${dir}/${name}`,
  mkdirs: (dir) => Deno.mkdir(dir, { recursive: true }),
  readFile: (p) => Deno.readFile(p),
  writeSynced: async (p, data) => {
    using file = await Deno.open(p, { write: true, create: true, truncate: true });
    await writeAll(file, data);
    await file.syncData();
  },
  append: async (p, data) => {
    using file = await Deno.open(p, { append: true, create: true });
    const { size } = await file.stat();
    await writeAll(file, data);
    return size;
  },
  readAt: async (p, into, offset) => {
    using file = await Deno.open(p, { read: true });
    await file.seek(offset, Deno.SeekMode.Start);
    return (await file.read(into)) ?? 0;
  },
  size: async (p) => (await Deno.stat(p)).size,
  truncate: (p, length) => Deno.truncate(p, length),
  rename: (from, to) => Deno.rename(from, to),
  remove: (p) => Deno.remove(p),
  isNotFound: (err) => err instanceof Deno.errors.NotFound,
};
