"""SSH keys as CloudStack handles them (SSHKeysHelper): the fingerprint of a public key is the
MD5 of its base64-decoded blob in colon-separated hex, and createSSHKeyPair makes an RSA key
pair whose private half it hands out once, in PKCS#1 PEM. Standard library only, so the RSA
key generation is done here (Miller-Rabin primes, e = 65537)."""
import base64
import binascii
import hashlib
import secrets
import struct
import textwrap

KEY_TYPES = ("ssh-rsa", "ssh-dss", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
             "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")


class InvalidKey(ValueError):
    """A public key CloudStack would refuse to register."""


def parse_public_key(text):
    """(type, blob) of an OpenSSH public key line ("type base64 [comment]")."""
    fields = (text or "").strip().split()
    if len(fields) < 2 or fields[0] not in KEY_TYPES:
        raise InvalidKey("not an OpenSSH public key")
    try:
        blob = base64.b64decode(fields[1], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidKey("the key is not base64") from None
    if len(blob) < 4:
        raise InvalidKey("the key blob is too short")
    (length,) = struct.unpack(">I", blob[:4])
    if blob[4:4 + length] != fields[0].encode():
        raise InvalidKey("the key blob does not match its type")
    return fields[0], blob


def fingerprint(blob):
    return ":".join(f"{b:02x}" for b in hashlib.md5(blob).digest())  # nosec B324  # CloudStack's fingerprint is MD5


# --- RSA ----------------------------------------------------------------------------------

_SMALL_PRIMES = [p for p in range(3, 2000, 2) if all(p % d for d in range(3, int(p ** 0.5) + 1, 2))]


def _probably_prime(n, rounds=40):
    if any(n % p == 0 for p in _SMALL_PRIMES):
        return n in _SMALL_PRIMES
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for _round in range(rounds):
        x = pow(secrets.randbelow(n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _square in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits, e):
    while True:
        candidate = secrets.randbits(bits) | (3 << (bits - 2)) | 1  # top two bits set: n has the full size
        if (candidate - 1) % e and _probably_prime(candidate):
            return candidate


def _der_int(value):
    body = value.to_bytes((value.bit_length() + 8) // 8, "big")
    return b"\x02" + _der_length(len(body)) + body


def _der_length(length):
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _ssh_string(data):
    return struct.pack(">I", len(data)) + data


def _ssh_mpint(value):
    return _ssh_string(value.to_bytes((value.bit_length() + 8) // 8, "big"))


def generate_rsa(bits=2048):
    """(private key in PKCS#1 PEM, OpenSSH public key line) of a new RSA key."""
    e = 65537
    while True:
        p, q = _prime(bits // 2, e), _prime(bits // 2, e)
        if p != q:
            break
    n, phi = p * q, (p - 1) * (q - 1)
    d = pow(e, -1, phi)
    fields = [0, n, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p)]
    body = b"".join(_der_int(f) for f in fields)
    der = b"\x30" + _der_length(len(body)) + body
    pem = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64)) + "\n-----END RSA PRIVATE KEY-----\n"
    blob = _ssh_string(b"ssh-rsa") + _ssh_mpint(e) + _ssh_mpint(n)
    return pem, "ssh-rsa " + base64.b64encode(blob).decode()
