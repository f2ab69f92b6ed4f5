//! Computes the CIDs of the JSON Schemas of the reference deployment types (`cloudstack-vm`,
//! `substrate-node`) for the development genesis preset, so that the chain can never name a
//! schema that differs from the one in the repository.
//!
//! The CID is what `ipfs add --cid-version 1` gives a file of one block (up to 256 KiB):
//! CIDv1, codec raw (0x55), multihash sha2-256, multibase base32 lower-case ("b...").

use std::{env, fs, path::PathBuf};

fn base32_lower(bytes: &[u8]) -> String {
	const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
	let mut out = String::new();
	let (mut buffer, mut bits) = (0u32, 0u32);
	for &b in bytes {
		buffer = (buffer << 8) | b as u32;
		bits += 8;
		while bits >= 5 {
			out.push(ALPHABET[((buffer >> (bits - 5)) & 31) as usize] as char);
			bits -= 5;
		}
	}
	if bits > 0 {
		out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
	}
	out
}

fn main() {
	let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
	for (type_name, env_name) in [
		("cloudstack-vm", "DINFRA_CLOUDSTACK_VM_SCHEMA_CID"),
		("substrate-node", "DINFRA_SUBSTRATE_NODE_SCHEMA_CID"),
	] {
		let schema = manifest.join(format!("../../descriptors/{type_name}/schema.json"));
		println!("cargo:rerun-if-changed={}", schema.display());
		let bytes = fs::read(&schema).unwrap_or_else(|e| panic!("reading {}: {e}", schema.display()));
		assert!(bytes.len() <= 256 * 1024, "{type_name}: the schema must fit one IPFS block (256 KiB)");

		let digest = sha2::Sha256::digest(&bytes);
		let mut cid = vec![0x01, 0x55, 0x12, 0x20];
		cid.extend_from_slice(&digest);
		println!("cargo:rustc-env={env_name}=b{}", base32_lower(&cid));
	}
}

use sha2::Digest;
