"""Waits for a CloudStack management server and prints the admin user's API key and secret as
shell exports (CLOUDSTACK_KEY, CLOUDSTACK_SECRET), for CI jobs that run the molecule scenarios
against a real CloudStack (the quay.io/ansible/cloudstack-test-container simulator).

    eval "$(python3 devtools/cloudstack_api_keys.py http://cloudstack:8888/client/api)"

It logs in with a username and password (CLOUDSTACK_USERNAME / CLOUDSTACK_PASSWORD, default
admin / password, the simulator's), reads the user's keys and registers a pair when there is
none. Standard library only. The secret is printed to stdout only, for eval; never logged."""
import http.cookiejar
import json
import os
import shlex
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def call(opener, endpoint, command, **params):
    params.update(command=command, response="json")
    request = urllib.request.Request(endpoint, data=urllib.parse.urlencode(params).encode())
    with opener.open(request, timeout=30) as answer:
        body = json.load(answer)
    return body[command.lower() + "response"]


def wait_until_up(opener, endpoint, deadline):
    """The management server answers 503 (or nothing) until its zones are deployed."""
    while True:
        try:
            opener.open(endpoint + "?command=listCapabilities&response=json", timeout=10)
            return
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 432):  # up, refusing an unauthenticated call
                return
            reason = f"HTTP {exc.code}"
        except OSError as exc:
            reason = str(exc)
        if time.monotonic() > deadline:
            sys.exit(f"CloudStack at {endpoint} is not up ({reason})")
        time.sleep(10)


def main():
    endpoint = sys.argv[1] if len(sys.argv) > 1 else os.environ["CLOUDSTACK_ENDPOINT"]
    timeout = float(os.environ.get("CLOUDSTACK_STARTUP_TIMEOUT", "1800"))
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    wait_until_up(opener, endpoint, time.monotonic() + timeout)
    session = call(opener, endpoint, "login", username=os.environ.get("CLOUDSTACK_USERNAME", "admin"),
                   password=os.environ.get("CLOUDSTACK_PASSWORD", "password"), domain="/")
    key = session["sessionkey"]
    user = call(opener, endpoint, "listUsers", username=session["username"], sessionkey=key)["user"][0]
    if not user.get("apikey"):
        call(opener, endpoint, "registerUserKeys", id=user["id"], sessionkey=key)
    keys = call(opener, endpoint, "getUserKeys", id=user["id"], sessionkey=key)["userkeys"]
    print(f"export CLOUDSTACK_ENDPOINT={shlex.quote(endpoint)}")
    print(f"export CLOUDSTACK_KEY={shlex.quote(keys['apikey'])}")
    print(f"export CLOUDSTACK_SECRET={shlex.quote(keys['secretkey'])}")


if __name__ == "__main__":
    main()
