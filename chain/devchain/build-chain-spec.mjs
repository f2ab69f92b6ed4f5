// Builds the raw chain spec chopsticks starts the dev chain from.
//
// chopsticks accepts only raw genesis storage, so this runs the runtime's own
// GenesisBuilder API (in chopsticks' wasm executor, no native node needed):
// the default config, patched with the named preset, is turned into storage by
// `GenesisBuilder_build_state`, and the runtime code is added as `:code`.
//
// usage: node build-chain-spec.mjs <runtime.wasm> <out.json> [preset]
import { readFileSync, writeFileSync } from "node:fs";
import { runTask, destroyWorker } from "@acala-network/chopsticks-core";
import { compactAddLength, compactFromU8a, hexToU8a, stringToU8a, u8aToHex, u8aToString } from "@polkadot/util";

const [wasmPath, outPath, preset = "development"] = process.argv.slice(2);
if (!wasmPath || !outPath) {
  console.error("usage: node build-chain-spec.mjs <runtime.wasm> <out.json> [preset]");
  process.exit(2);
}
const wasm = u8aToHex(readFileSync(wasmPath));

// Genesis building reads nothing that is not written first; an empty store is exact.
const storage = new Map();
const host = {
  getStorage: async (key) => storage.get(key),
  getNextKey: async () => undefined,
  offchainGetStorage: async () => undefined,
  offchainTimestamp: async () => 0,
  offchainRandomSeed: async () => "0x" + "00".repeat(32),
  offchainSubmitTransaction: async () => false,
};

async function call(method, argHex) {
  const result = await runTask(
    { wasm, calls: [[method, [argHex]]], mockSignatureHost: false, allowUnresolvedImports: false, runtimeLogLevel: 0 },
    host,
  );
  if (result.Error) throw new Error(`${method}: ${JSON.stringify(result.Error)}`);
  return result.Call;
}

const scaleString = (s) => u8aToHex(compactAddLength(stringToU8a(s)));

// Decodes SCALE Option<Vec<u8>> holding UTF-8 JSON.
function optionJson(hex) {
  const bytes = hexToU8a(hex);
  if (bytes[0] === 0) return null;
  const [offset, length] = compactFromU8a(bytes.subarray(1));
  return JSON.parse(u8aToString(bytes.subarray(1 + offset, 1 + offset + length.toNumber())));
}

// RFC 7386-style merge: objects merge key by key, anything else replaces.
function merge(base, patch) {
  for (const [key, value] of Object.entries(patch)) {
    const both = [base[key], value].every((v) => v && typeof v === "object" && !Array.isArray(v));
    base[key] = both ? merge(base[key], value) : value;
  }
  return base;
}

try {
  const defaults = optionJson((await call("GenesisBuilder_get_preset", "0x00")).result);
  const patch = optionJson((await call("GenesisBuilder_get_preset", "0x01" + scaleString(preset).slice(2))).result);
  if (patch === null) throw new Error(`the runtime has no genesis preset named '${preset}'`);
  const built = await call("GenesisBuilder_build_state", scaleString(JSON.stringify(merge(defaults, patch))));
  if (built.result !== "0x00") throw new Error(`GenesisBuilder_build_state failed: ${built.result}`);

  const top = {};
  for (const [key, value] of built.storageDiff) if (value !== null) top[key] = value;
  top["0x3a636f6465"] = wasm; // `:code`

  const spec = {
    name: "DINFRA Dev",
    id: "dinfra_dev",
    chainType: "Development",
    properties: { ss58Format: 42, tokenDecimals: 12, tokenSymbol: "DIN" },
    genesis: { raw: { top, childrenDefault: {} } },
  };
  writeFileSync(outPath, JSON.stringify(spec));
  console.log(`chain spec: ${Object.keys(top).length} genesis keys, preset '${preset}' -> ${outPath}`);
} finally {
  await destroyWorker();
}
