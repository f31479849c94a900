/**
 * Which notebook id a `.ipynb` file goes by (reactive_notebook/contents/store.py): the
 * id in its `metadata.reactive_notebook`, or for a file without one an id derived from
 * its path (uuid5 in the store's namespace), the same one the server computes.
 */

/** The store's namespace of path-derived ids (`_DERIVED_ID_NAMESPACE`). */
export const DERIVED_ID_NAMESPACE = '7c1f5a52-2f0e-4d55-9a8e-3b1b0f3c6a11';

const NOTEBOOK_ID = /^[a-zA-Z0-9_-]{1,128}$/;

/** SHA-1 of `bytes` (small and synchronous: `crypto.subtle` needs a secure context). */
export function sha1(bytes: Uint8Array): Uint8Array {
  const length = bytes.length;
  const words = new Uint32Array((((length + 8) >> 6) + 1) * 16);
  for (let i = 0; i < length; i++) {
    words[i >> 2] |= bytes[i] << (24 - (i % 4) * 8);
  }
  words[length >> 2] |= 0x80 << (24 - (length % 4) * 8);
  words[words.length - 1] = length * 8;
  let h0 = 0x67452301;
  let h1 = 0xefcdab89;
  let h2 = 0x98badcfe;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0;
  const w = new Uint32Array(80);
  for (let block = 0; block < words.length; block += 16) {
    for (let t = 0; t < 16; t++) {
      w[t] = words[block + t];
    }
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
      w[t] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const temp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]) >>> 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    h0 = (h0 + a) >>> 0;
    h1 = (h1 + b) >>> 0;
    h2 = (h2 + c) >>> 0;
    h3 = (h3 + d) >>> 0;
    h4 = (h4 + e) >>> 0;
  }
  const out = new Uint8Array(20);
  [h0, h1, h2, h3, h4].forEach((h, i) => {
    out[i * 4] = h >>> 24;
    out[i * 4 + 1] = (h >>> 16) & 0xff;
    out[i * 4 + 2] = (h >>> 8) & 0xff;
    out[i * 4 + 3] = h & 0xff;
  });
  return out;
}

function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
  return bytes;
}

/** Python's `uuid.uuid5(namespace, name).hex`. */
export function uuid5Hex(namespace: string, name: string): string {
  const nameBytes = new TextEncoder().encode(name);
  const input = new Uint8Array(16 + nameBytes.length);
  input.set(uuidBytes(namespace), 0);
  input.set(nameBytes, 16);
  const hash = sha1(input).slice(0, 16);
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  return Array.from(hash, b => b.toString(16).padStart(2, '0')).join('');
}

/** The id the server derives for a file at `path` (contents API path) without one. */
export function derivedId(base: string, path: string): string {
  return uuid5Hex(DERIVED_ID_NAMESPACE, `${base}\0${path}`);
}

/** The id stored in an `.ipynb`'s metadata, if it holds a valid one. */
export function storedId(ipynb: unknown): string | null {
  if (ipynb === null || typeof ipynb !== 'object') {
    return null;
  }
  const metadata = (ipynb as { metadata?: unknown }).metadata;
  if (metadata === null || typeof metadata !== 'object') {
    return null;
  }
  const ours = (metadata as { reactive_notebook?: unknown }).reactive_notebook;
  if (ours === null || typeof ours !== 'object') {
    return null;
  }
  const id = (ours as { id?: unknown }).id;
  return typeof id === 'string' && NOTEBOOK_ID.test(id) ? id : null;
}

/** The notebook id of the file at `path` whose text is `text`. */
export function notebookIdOf(path: string, text: string): string {
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  return storedId(parsed) ?? derivedId('', path.replace(/^\/+|\/+$/g, ''));
}
