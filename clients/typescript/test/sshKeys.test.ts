// The TypeScript package's SSH keys against the vectors the Python filter is tested with
// (tests/vectors/ssh-public-keys.json, made with plugins/module_utils/ssh_keys.py).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { SshKeyError, fingerprint, sshPublicKey } from "../src/sshKeys";

interface Vectors {
  lines: { what: string; account: string; comment: string; line: string; fingerprint: string }[];
  refused: { account: string; comment: string; message: string }[];
}
// dist/test/ -> the repository's tests/vectors.
const vectors: Vectors = JSON.parse(readFileSync(join(__dirname, "../../../../tests/vectors/ssh-public-keys.json"), "utf8"));

test("there are vectors of both kinds", () => {
  assert.ok(vectors.lines.length >= 10 && vectors.refused.length >= 10);
});

for (const v of vectors.lines) {
  test(`${v.what} as ${JSON.stringify(v.account.trim().slice(0, 12))} gives its line`, () => {
    assert.equal(sshPublicKey(v.account, v.comment), v.line);
    assert.equal(fingerprint(v.account), v.fingerprint);
  });
}

for (const v of vectors.refused) {
  test(`refused: ${v.message}`, () => {
    assert.throws(() => sshPublicKey(v.account, v.comment), (error: unknown) => {
      assert.ok(error instanceof SshKeyError);
      assert.ok(error.message.startsWith(v.message), error.message);
      if (v.account.trim().length > 8) assert.ok(!error.message.includes(v.account.trim()), "the input is quoted");
      return true;
    });
  });
}
