//! Genesis presets. `development` funds the well-known dev accounts, makes Alice sudo, and
//! registers the reference deployment types `cloudstack-vm` (id 0) and `substrate-node`
//! (id 1), owned by Alice, with the CIDs of their `descriptors/<type>/schema.json`, which
//! `build.rs` computes from the files.

use crate::*;
use alloc::{vec, vec::Vec};
use polkadot_sdk::{sp_genesis_builder::PresetId, sp_keyring::Sr25519Keyring};
use serde_json::{json, Value};

/// The preset the dev chain starts from.
pub const DEVELOPMENT: &str = sp_genesis_builder::DEV_RUNTIME_PRESET;

/// CIDv1 (raw, sha2-256) of the `cloudstack-vm` JSON Schema, computed at build time.
pub const CLOUDSTACK_VM_SCHEMA_CID: &str = env!("DINFRA_CLOUDSTACK_VM_SCHEMA_CID");
/// CIDv1 (raw, sha2-256) of the `substrate-node` JSON Schema, computed at build time.
pub const SUBSTRATE_NODE_SCHEMA_CID: &str = env!("DINFRA_SUBSTRATE_NODE_SCHEMA_CID");

/// What every dev account starts with.
pub const DEV_ENDOWMENT: Balance = 1_000_000 * UNIT;

fn development() -> Value {
	let endowed: Vec<(AccountId, Balance)> =
		Sr25519Keyring::well_known().map(|k| (k.to_account_id(), DEV_ENDOWMENT)).collect();
	let alice = Sr25519Keyring::Alice.to_account_id();
	#[allow(unused_mut)]
	let mut preset = json!({
		"balances": { "balances": endowed },
		"sudo": { "key": Some(alice.clone()) },
		"dinfraProviders": {
			"deploymentTypes": vec![
				(alice.clone(), b"cloudstack-vm".to_vec(), CLOUDSTACK_VM_SCHEMA_CID.as_bytes().to_vec()),
				(alice, b"substrate-node".to_vec(), SUBSTRATE_NODE_SCHEMA_CID.as_bytes().to_vec()),
			],
		},
	});
	#[cfg(feature = "parachain")]
	{
		// Alice authors blocks with her sr25519 key as Aura authority.
		let aura: crate::parachain::AuraId = Sr25519Keyring::Alice.public().into();
		preset["parachainInfo"] = json!({ "parachainId": crate::parachain::DEV_PARA_ID });
		preset["aura"] = json!({ "authorities": vec![aura] });
	}
	preset
}

/// The JSON patch of preset `id`, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		DEVELOPMENT => development(),
		_ => return None,
	};
	Some(serde_json::to_string(&patch).expect("serialising a json value cannot fail").into_bytes())
}

/// The names of the presets this runtime has.
pub fn preset_names() -> Vec<PresetId> {
	vec![PresetId::from(DEVELOPMENT)]
}
