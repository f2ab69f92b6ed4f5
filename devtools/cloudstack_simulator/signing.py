"""Request signatures as CloudStack checks them (ApiServer.verifyRequest) and as the `cs`
client makes them: HMAC-SHA1 with the user's secret over the parameters sorted by name,
each ``name=urlencoded(value)`` joined by ``&``, the whole string lower-cased, in base64.
With ``signatureVersion=3`` the request also carries ``expires``, past which it is refused."""
import base64
import datetime
import hashlib
import hmac
from urllib.parse import quote

# Java's URLEncoder leaves only these unencoded (and turns spaces into '+', which CloudStack
# then replaces with %20); Python's quote() also leaves '~', which `cs` relies on.
_JAVA_SAFE = "*-._"


def _java_encode(value):
    return quote(value, safe=_JAVA_SAFE).replace("~", "%7E")


def _cs_encode(value):
    return quote(value, safe="*")


def signature(params, secret, encode=_cs_encode):
    """The signature of ``params`` (name -> value, without the signature itself)."""
    text = "&".join(f"{name}={encode(value)}" for name, value in sorted(params.items()))
    digest = hmac.new(secret.encode("utf-8"), text.lower().encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def parse_expires(value):
    """``expires`` in CloudStack's format (yyyy-MM-dd'T'HH:mm:ssZ), or None if unparsable."""
    try:
        return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def verify(params, credentials, now=None):
    """Returns None if ``params`` (name -> first value, as sent) are signed with the secret of
    the API key they name, else why not (for the log; the caller only learns "401")."""
    lowered = {name.lower(): value for name, value in params.items()}
    api_key, sent = lowered.get("apikey"), lowered.get("signature")
    if not api_key or not sent:
        return "no apiKey or no signature"
    if lowered.get("signatureversion") == "3":
        expires = lowered.get("expires")
        if expires is None:
            return "signatureVersion=3 without expires"
        when = parse_expires(expires)
        if when is None:
            return "expires is not in yyyy-MM-dd'T'HH:mm:ssZ"
        if when < (now or datetime.datetime.now(datetime.timezone.utc)):
            return "the request has expired"
    secret = credentials.get(api_key)
    if secret is None:
        return "unknown apiKey"
    signed = {name: value for name, value in params.items() if name.lower() != "signature"}
    for encode in (_cs_encode, _java_encode):
        if hmac.compare_digest(signature(signed, secret, encode).encode(), sent.encode()):
            return None
    return "signature mismatch"
