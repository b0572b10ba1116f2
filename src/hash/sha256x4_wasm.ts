/**
 * A four-lane double SHA-256 in WebAssembly SIMD, as the generator of its
 * module: the bytes are written here instruction by instruction (WebAssembly
 * 2.0 with 128-bit SIMD). `deno task wasm` (scripts/build-wasm.ts) stores
 * them in `sha256x4_module.ts`, and a test checks that the stored module is
 * what this generator produces.
 *
 * The module exports its memory and one function, `dsha(n0, n1, n2, n3,
 * nmax)`. Lane `l` (0 to 3) holds a padded message of `n<l>` 64-byte blocks
 * at `DATA + l * LANE_BYTES`; `nmax` is the largest count. The function
 * hashes the four messages at once, one lane of each SIMD register per
 * message (a lane whose message ended keeps its state while the others go
 * on), hashes the four digests again, and stores the eight state words of
 * the results at `OUT`: word `j` of lane `l` as a little-endian uint32 at
 * `OUT + 16 * j + 4 * l`.
 *
 * @module
 */

/** Where the results are stored: 8 words of 4 lanes. */
export const OUT = 0;
/** Where lane 0's message starts. */
export const DATA = 1024;
/** The most 64-byte blocks one lane holds (padding included). */
export const LANE_BLOCKS = 128;
/** The bytes of one lane. */
export const LANE_BYTES: number = LANE_BLOCKS * 64;

const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
// The round constants: the first 32 bits of the fractional parts of the cube
// roots of the first 64 primes, computed rather than listed.
const K: number[] = (() => {
  const primes: number[] = [];
  for (let n = 2; primes.length < 64; n++) if (primes.every((p) => n % p !== 0)) primes.push(n);
  return primes.map((p) => {
    // The cube root to double precision, refined by one Newton step in
    // BigInt so that the 32 fraction bits are exact.
    const scaled = BigInt(p) << 96n;
    let x = BigInt(Math.floor(Math.cbrt(p) * 2 ** 32));
    for (let i = 0; i < 4; i++) x = (2n * x + scaled / (x * x)) / 3n;
    return Number(x & 0xffffffffn) | 0;
  });
})();

// Opcodes (the SIMD ones follow the 0xfd prefix).
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_GE_U = 0x4f;
const BLOCK = 0x02;
const LOOP = 0x03;
const BR = 0x0c;
const BR_IF = 0x0d;
const END = 0x0b;
const VOID = 0x40;
const SIMD = {
  store: 0x0b,
  const: 0x0c,
  swizzle: 0x0e,
  splat: 0x11,
  replaceLane: 0x1c,
  gtS: 0x3b,
  and: 0x4e,
  or: 0x50,
  xor: 0x51,
  bitselect: 0x52,
  load32Lane: 0x56,
  load32Zero: 0x5c,
  shl: 0xab,
  shrU: 0xad,
  add: 0xae,
};

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A function body under construction, with named locals. */
class Body {
  code: number[] = [];
  i32Locals = 0;
  v128Locals = 0;
  #params: number;

  constructor(params: number) {
    this.#params = params;
  }

  /** A new i32 local (after the parameters). */
  i32(): number {
    return this.#params + this.i32Locals++;
  }

  /** A new v128 local; its index is fixed up once the i32 locals are known. */
  v128(): number {
    return -1 - this.v128Locals++;
  }

  // Byte by byte, without spreading arrays: the generator runs once, cold,
  // so it must be cheap in an interpreter.
  emit(...bytes: number[]): void {
    for (let i = 0; i < bytes.length; i++) this.code.push(bytes[i]!);
  }

  uleb(n: number): void {
    do {
      const b = n & 0x7f;
      n >>>= 7;
      this.code.push(n !== 0 ? b | 0x80 : b);
    } while (n !== 0);
  }

  simd(op: number, ...imm: number[]): void {
    this.code.push(0xfd);
    this.uleb(op);
    for (let i = 0; i < imm.length; i++) this.code.push(imm[i]!);
  }

  /** A SIMD memory access: alignment and offset, then a lane index if any. */
  simdMem(op: number, align: number, offset: number, lane?: number): void {
    this.simd(op, align);
    this.uleb(offset);
    if (lane !== undefined) this.code.push(lane);
  }

  i32const(n: number): void {
    this.code.push(I32_CONST);
    const b = sleb(n);
    for (let i = 0; i < b.length; i++) this.code.push(b[i]!);
  }

  get(local: number): void {
    this.code.push(LOCAL_GET);
    this.#ref(local);
  }

  set(local: number): void {
    this.code.push(LOCAL_SET);
    this.#ref(local);
  }

  // v128 locals are written as their negative ids (no byte is negative)
  // and numbered in finish().
  #ref(local: number): void {
    if (local < 0) this.code.push(local);
    else this.uleb(local);
  }

  vconst(lanes: number[]): void {
    this.simd(SIMD.const);
    for (let i = 0; i < 4; i++) {
      const x = lanes[i]!;
      this.code.push(x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, x >>> 24);
    }
  }

  /** The locals declaration and code, v128 locals numbered after the i32 ones. */
  finish(): number[] {
    const base = this.#params + this.i32Locals;
    const code: number[] = [];
    code.push(2);
    for (const b of uleb(this.i32Locals)) code.push(b);
    code.push(0x7f);
    for (const b of uleb(this.v128Locals)) code.push(b);
    code.push(0x7b);
    const src = this.code;
    for (let i = 0; i < src.length; i++) {
      const b = src[i]!;
      if (b >= 0) code.push(b);
      else for (const x of uleb(base - 1 - b)) code.push(x);
    }
    code.push(END);
    return code;
  }
}

/**
 * Emits `rotr(x, a) ^ rotr(x, b) ^ (rotr or shr)(x, c)` on the stack, with
 * `x` in a local.
 */
function sigma(f: Body, x: number, a: number, b: number, c: number, lastIsShift: boolean): void {
  const rotr = (n: number) => {
    f.get(x);
    f.i32const(n);
    f.simd(SIMD.shrU);
    f.get(x);
    f.i32const(32 - n);
    f.simd(SIMD.shl);
    f.simd(SIMD.or);
  };
  rotr(a);
  rotr(b);
  f.simd(SIMD.xor);
  if (lastIsShift) {
    f.get(x);
    f.i32const(c);
    f.simd(SIMD.shrU);
  } else {
    rotr(c);
  }
  f.simd(SIMD.xor);
}

/**
 * Emits the 64 rounds over the message words in `w` (16 locals, used as the
 * rolling schedule) from the state `h` into the working variables, then adds
 * them to `h` where `mask` (if any) selects.
 */
function compress(f: Body, w: number[], h: number[], vars: number[], t1: number, mask: number | undefined): void {
  for (let i = 0; i < 8; i++) {
    f.get(h[i]!);
    f.set(vars[i]!);
  }
  // Renaming instead of moving: round i's a is round i+1's b, and so on.
  let [a, b, c, d, e, g, hh] = [vars[0]!, vars[1]!, vars[2]!, vars[3]!, vars[4]!, vars[6]!, vars[7]!];
  let ff = vars[5]!;
  for (let i = 0; i < 64; i++) {
    const wi = w[i & 15]!;
    if (i >= 16) {
      // w[i] = σ1(w[i-2]) + w[i-7] + σ0(w[i-15]) + w[i-16]
      sigma(f, w[(i - 2) & 15]!, 17, 19, 10, true);
      f.get(w[(i - 7) & 15]!);
      f.simd(SIMD.add);
      sigma(f, w[(i - 15) & 15]!, 7, 18, 3, true);
      f.simd(SIMD.add);
      f.get(wi);
      f.simd(SIMD.add);
      f.set(wi);
    }
    // t1 = h + Σ1(e) + Ch(e, f, g) + K[i] + w[i]
    f.get(hh);
    sigma(f, e, 6, 11, 25, false);
    f.simd(SIMD.add);
    f.get(ff);
    f.get(g);
    f.get(e);
    f.simd(SIMD.bitselect);
    f.simd(SIMD.add);
    f.vconst([K[i]!, K[i]!, K[i]!, K[i]!]);
    f.simd(SIMD.add);
    f.get(wi);
    f.simd(SIMD.add);
    f.set(t1);
    // d += t1; the new a (in h's local) = t1 + Σ0(a) + Maj(a, b, c)
    f.get(d);
    f.get(t1);
    f.simd(SIMD.add);
    f.set(d);
    f.get(t1);
    sigma(f, a, 2, 13, 22, false);
    f.simd(SIMD.add);
    f.get(c);
    f.get(a);
    f.get(a);
    f.get(b);
    f.simd(SIMD.xor);
    f.simd(SIMD.bitselect);
    f.simd(SIMD.add);
    f.set(hh);
    [a, b, c, d, e, ff, g, hh] = [hh, a, b, c, d, e, ff, g];
  }
  const out = [a, b, c, d, e, ff, g, hh];
  for (let i = 0; i < 8; i++) {
    if (mask !== undefined) {
      f.get(h[i]!);
      f.get(out[i]!);
      f.simd(SIMD.add);
      f.get(h[i]!);
      f.get(mask);
      f.simd(SIMD.bitselect);
    } else {
      f.get(h[i]!);
      f.get(out[i]!);
      f.simd(SIMD.add);
    }
    f.set(h[i]!);
  }
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

/**
 * Produces the module's bytes.
 *
 * @returns The WebAssembly binary.
 */
export function generateSha256x4(): Uint8Array<ArrayBuffer> {
  const f = new Body(5);
  const [n0, n1, n2, n3, nmax] = [0, 1, 2, 3, 4];
  const b = f.i32();
  const p = f.i32();
  const counts = f.v128();
  const mask = f.v128();
  const t1 = f.v128();
  const h = Array.from({ length: 8 }, () => f.v128());
  const vars = Array.from({ length: 8 }, () => f.v128());
  const w = Array.from({ length: 16 }, () => f.v128());
  // Big-endian words: byte 4k+j of the result is byte 4k+3-j of the input.
  const bswap = [0x00010203, 0x04050607, 0x08090a0b, 0x0c0d0e0f];

  f.get(n0);
  f.simd(SIMD.splat);
  for (const [lane, n] of [[1, n1], [2, n2], [3, n3]] as const) {
    f.get(n);
    f.simd(SIMD.replaceLane, lane);
  }
  f.set(counts);
  for (let i = 0; i < 8; i++) {
    f.vconst([IV[i]!, IV[i]!, IV[i]!, IV[i]!]);
    f.set(h[i]!);
  }
  // for (b = 0, p = 0; b < nmax; b++, p += 64)
  f.emit(BLOCK, VOID, LOOP, VOID);
  f.get(b);
  f.get(nmax);
  f.emit(I32_GE_U, BR_IF, 1);
  f.get(counts);
  f.get(b);
  f.simd(SIMD.splat);
  f.simd(SIMD.gtS);
  f.set(mask);
  for (let i = 0; i < 16; i++) {
    f.get(p);
    f.simdMem(SIMD.load32Zero, 2, DATA + 4 * i);
    for (let lane = 1; lane < 4; lane++) {
      f.set(w[i]!);
      f.get(p);
      f.get(w[i]!);
      f.simdMem(SIMD.load32Lane, 2, DATA + lane * LANE_BYTES + 4 * i, lane);
    }
    f.vconst(bswap);
    f.simd(SIMD.swizzle);
    f.set(w[i]!);
  }
  compress(f, w, h, vars, t1, mask);
  f.get(b);
  f.emit(I32_CONST, 1, I32_ADD);
  f.set(b);
  f.get(p);
  f.i32const(64);
  f.emit(I32_ADD);
  f.set(p);
  f.emit(BR, 0, END, END);

  // The second pass: one block of the 32-byte digest and its padding.
  for (let i = 0; i < 8; i++) {
    f.get(h[i]!);
    f.set(w[i]!);
  }
  for (let i = 8; i < 16; i++) {
    const v = i === 8 ? 0x80000000 : i === 15 ? 256 : 0;
    f.vconst([v, v, v, v]);
    f.set(w[i]!);
  }
  for (let i = 0; i < 8; i++) {
    f.vconst([IV[i]!, IV[i]!, IV[i]!, IV[i]!]);
    f.set(h[i]!);
  }
  compress(f, w, h, vars, t1, undefined);
  for (let i = 0; i < 8; i++) {
    f.emit(I32_CONST, 0);
    f.get(h[i]!);
    f.simdMem(SIMD.store, 4, OUT + 16 * i);
  }

  const body = f.finish();
  const code = [1, ...uleb(body.length)];
  const head = [
    [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    section(1, [1, 0x60, 5, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]),
    section(3, [1, 0]),
    section(5, [1, 0, 1]),
    section(7, [2, ...name("memory"), 2, 0, ...name("dsha"), 0, 0]),
    [10, ...uleb(code.length + body.length), ...code],
  ].flat();
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}
