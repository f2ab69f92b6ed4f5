/**
 * Substrate ed25519 accounts as OpenSSH public keys: the `ssh-ed25519 AAAA… comment` line a
 * provider puts in `authorized_keys` for a descriptor's `ssh.authorized_keys`.
 *
 * The same rules as the dinfra.chain collection's `ssh_public_key` filter
 * (plugins/module_utils/ssh_keys.py), checked against the same vectors
 * (tests/vectors/ssh-public-keys.json): an SS58 address (checked as sp-core's
 * `from_ss58check_with_version` does) or 32 bytes of hex, which must be a point of the ed25519
 * group, since most sr25519 accounts are not. Errors never quote the input.
 */
import { createHash } from "node:crypto";

export class SshKeyError extends Error {
  override name = "SshKeyError";
}

const SR25519_ADVICE =
  "sr25519 keys cannot be SSH keys: OpenSSH has no sr25519 key type. Derive a separate ed25519 key " +
  "from your own mnemonic with a hard path (for example '<mnemonic>//ssh') and put its account in ssh.authorized_keys";
const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const SS58_PREFIX = Buffer.from("SS58PRE");
const SS58_RESERVED = new Set([46, 47]);
const KEY_TYPE = Buffer.from("ssh-ed25519");

// edwards25519 (RFC 8032, section 5.1).
const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const mod = (a: bigint) => ((a % P) + P) % P;
function pow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  base = mod(base);
  while (exponent > 0n) {
    if (exponent & 1n) result = (result * base) % P;
    base = (base * base) % P;
    exponent >>= 1n;
  }
  return result;
}
const D = mod(-121665n * pow(121666n, P - 2n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

function base58Decode(text: string): Buffer {
  let value = 0n;
  for (const char of text) {
    const digit = BASE58.indexOf(char);
    if (digit < 0) {
      throw new SshKeyError("the account is neither 0x hex nor an SS58 address (it has characters outside base58)");
    }
    value = value * 58n + BigInt(digit);
  }
  const bytes: number[] = [];
  while (value > 0n) {
    bytes.unshift(Number(value & 0xffn));
    value >>= 8n;
  }
  let zeros = 0;
  while (zeros < text.length && text[zeros] === "1") zeros++;
  return Buffer.from([...new Array(zeros).fill(0), ...bytes]);
}

function ss58Checksum(data: Buffer): Buffer {
  return createHash("blake2b512").update(SS58_PREFIX).update(data).digest().subarray(0, 2);
}

/** The network format and the 32-byte account of an SS58 address. */
export function ss58Decode(address: string): { network: number; publicKey: Buffer } {
  const data = base58Decode(address);
  if (data.length === 0) throw new SshKeyError("the SS58 address is empty");
  let prefixLength: number;
  let network: number;
  if (data[0] < 64) {
    prefixLength = 1;
    network = data[0];
  } else if (data[0] < 128 && data.length > 1) {
    // Two prefix bytes carry a 14-bit identifier, its low byte split across them.
    prefixLength = 2;
    network = (((data[0] << 2) | (data[1] >> 6)) & 0xff) | ((data[1] & 0x3f) << 8);
  } else {
    throw new SshKeyError("the SS58 address does not start with a valid network prefix");
  }
  if (data.length !== prefixLength + 34) {
    throw new SshKeyError(
      `the SS58 address decodes to ${data.length} bytes, not the ${prefixLength + 34} of a 32-byte account: ` +
        "only the AccountId32 of an ed25519 key can become an SSH key (account indices and ecdsa keys cannot)",
    );
  }
  if (SS58_RESERVED.has(network)) throw new SshKeyError(`the SS58 address uses the reserved network format ${network}`);
  if (!ss58Checksum(data.subarray(0, -2)).equals(data.subarray(-2))) {
    throw new SshKeyError("the SS58 address's checksum does not match: it is mistyped or truncated");
  }
  return { network, publicKey: Buffer.from(data.subarray(prefixLength, -2)) };
}

/** The 32-byte public key an SS58 address or a hex string (with or without 0x) names. */
export function accountPublicKey(value: string): Buffer {
  if (typeof value !== "string") throw new SshKeyError(`an account is a string (an SS58 address or 0x hex), not ${typeof value}`);
  const text = value.trim();
  if (!text) throw new SshKeyError("the account is empty");
  // No SS58 address starts with 0 (not a base58 digit) or is 64 hex digits long.
  const prefixed = text.startsWith("0x") || text.startsWith("0X");
  if (prefixed || /^[0-9a-fA-F]{64}$/.test(text)) {
    const digits = prefixed ? text.slice(2) : text;
    if (!/^[0-9a-fA-F]*$/.test(digits) || digits.length % 2) throw new SshKeyError("the hex public key is not valid hexadecimal");
    if (digits.length !== 64) throw new SshKeyError(`a hex public key has 32 bytes, this one has ${digits.length / 2}`);
    return Buffer.from(digits, "hex");
  }
  return ss58Decode(text).publicKey;
}

type Point = [bigint, bigint, bigint, bigint];

/** Extended coordinates of a canonical point encoding (RFC 8032, 5.1.3), or null. */
function decodePoint(data: Buffer): Point | null {
  let encoded = 0n;
  for (let i = data.length - 1; i >= 0; i--) encoded = (encoded << 8n) | BigInt(data[i]);
  const sign = encoded >> 255n;
  const y = encoded & ((1n << 255n) - 1n);
  if (y >= P) return null;
  const x2 = mod((y * y - 1n) * pow(D * y * y + 1n, P - 2n));
  if (x2 === 0n) return sign ? null : [0n, y, 1n, 0n];
  let x = pow(x2, (P + 3n) / 8n);
  if (mod(x * x - x2) !== 0n) x = mod(x * SQRT_M1);
  if (mod(x * x - x2) !== 0n) return null;
  if ((x & 1n) !== sign) x = P - x;
  return [x, y, 1n, mod(x * y)];
}

/** Point addition in extended coordinates (RFC 8032, 5.1.4); complete, so it also doubles. */
function add(p: Point, q: Point): Point {
  const a = mod((p[1] - p[0]) * (q[1] - q[0]));
  const b = mod((p[1] + p[0]) * (q[1] + q[0]));
  const c = mod(2n * D * p[3] * q[3]);
  const d = mod(2n * p[2] * q[2]);
  const [e, f, g, h] = [b - a, d - c, d + c, b + a];
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}

/**
 * Whether 32 bytes can be an ed25519 public key: a canonical point of the prime-order group
 * other than the identity, as every seed gives. Public data only, so variable time leaks nothing.
 */
export function isEd25519PublicKey(publicKey: Uint8Array): boolean {
  const point = decodePoint(Buffer.from(publicKey));
  if (point === null || (point[0] === 0n && point[1] === 1n)) return false;
  let result: Point = [0n, 1n, 1n, 0n];
  let addend = point;
  for (let scalar = L; scalar > 0n; scalar >>= 1n) {
    if (scalar & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return mod(result[0]) === 0n && mod(result[1] - result[2]) === 0n;
}

function sshString(data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, data]);
}

function checkComment(comment: string | null | undefined): string {
  if (comment === null || comment === undefined) return "";
  if (typeof comment !== "string") throw new SshKeyError(`the comment is a string, not ${typeof comment}`);
  // A newline would smuggle a second key into authorized_keys.
  if ([...comment].some((char) => char.charCodeAt(0) < 32 || char.charCodeAt(0) === 127)) {
    throw new SshKeyError("the comment must be one line without control characters");
  }
  return comment;
}

/** The OpenSSH public key line (`ssh-ed25519 AAAA… comment`) of an ed25519 account. */
export function sshPublicKey(account: string, comment: string | null = ""): string {
  const text = checkComment(comment);
  const publicKey = accountPublicKey(account);
  if (!isEd25519PublicKey(publicKey)) {
    throw new SshKeyError(
      "the account is not an ed25519 public key (it is not a point of the ed25519 group); most sr25519 " +
        "accounts, the default in the Polkadot ecosystem, fail this way. " + SR25519_ADVICE,
    );
  }
  const line = "ssh-ed25519 " + Buffer.concat([sshString(KEY_TYPE), sshString(publicKey)]).toString("base64");
  return text ? `${line} ${text}` : line;
}

/** The key's fingerprint as `ssh-keygen -l` prints it (SHA256:, unpadded base64). */
export function fingerprint(account: string): string {
  const blob = Buffer.concat([sshString(KEY_TYPE), sshString(accountPublicKey(account))]);
  return "SHA256:" + createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
}
