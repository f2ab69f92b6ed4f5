//! # DINFRA runtime
//!
//! A FRAME runtime with balances, timestamp, transaction payment, sudo (for development)
//! and the two DINFRA pallets. Built as is, it is the runtime of the local dev chain. With
//! the `parachain` feature it also carries cumulus and Aura (`parachain.rs`), so that a
//! collator such as the omni-node runs it as a parachain.
//!
//! Off-chain tools (python `substrate-interface`) decode everything through the V14
//! metadata, so the extrinsic format stays v4 with the classic transaction extensions.

#![cfg_attr(not(feature = "std"), no_std)]
#![recursion_limit = "256"]

extern crate alloc;

use alloc::vec::Vec;

mod apis;
pub mod configs;
pub mod genesis_config_presets;
#[cfg(feature = "parachain")]
pub mod parachain;

use polkadot_sdk::{
	frame_support::weights::{constants::WEIGHT_REF_TIME_PER_SECOND, Weight},
	sp_runtime::{
		generic, impl_opaque_keys,
		traits::{BlakeTwo256, IdentifyAccount, Verify},
		MultiAddress, MultiSignature, Perbill,
	},
	sp_version::RuntimeVersion,
	*,
};

pub use dinfra_primitives::{DeploymentId, DeploymentTypeId};

/// The signature type of extrinsics: sr25519, ed25519 or ecdsa.
pub type Signature = MultiSignature;
/// An account: the public key behind a [`Signature`].
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balances, deposits and prices. 128-bit, as python tooling expects.
pub type Balance = u128;
/// Transaction nonce. 32-bit, as python `substrate-interface` decodes it.
pub type Nonce = u32;
/// Block numbers.
pub type BlockNumber = u32;
/// Block hash.
pub type Hash = polkadot_sdk::sp_core::H256;
/// How extrinsics address accounts.
pub type Address = MultiAddress<AccountId, ()>;

/// One token has 12 decimals.
pub const UNIT: Balance = 1_000_000_000_000;
pub const MILLI_UNIT: Balance = UNIT / 1_000;
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;

/// Target block time of a production deployment; the dev chain seals on demand.
pub const MILLISECS_PER_BLOCK: u64 = 6_000;
pub const MINUTES: BlockNumber = 60_000 / (MILLISECS_PER_BLOCK as BlockNumber);
pub const HOURS: BlockNumber = MINUTES * 60;
pub const DAYS: BlockNumber = HOURS * 24;

/// Block size and weight limits. The proof-size limit is a parachain's, so that weights are
/// honest if this configuration runs as a parachain.
pub const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);
pub const MAXIMUM_BLOCK_WEIGHT: Weight =
	Weight::from_parts(WEIGHT_REF_TIME_PER_SECOND.saturating_mul(2), 5 * 1024 * 1024);

#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("dinfra"),
	impl_name: alloc::borrow::Cow::Borrowed("dinfra"),
	authoring_version: 1,
	spec_version: 1,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

impl_opaque_keys! {
	/// The dev chain has no session keys; the type exists for the `SessionKeys` API.
	pub struct SessionKeys {}
}

/// Transaction extensions, in the order python `substrate-interface` 1.8 encodes them.
/// Adding one with a non-empty payload breaks every python client: see docs/chain.md.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
pub type UncheckedExtrinsic = generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
>;

// The DINFRA pallets and the FRAME basics, in both shapes. The parachain shape adds cumulus
// and Aura; `cfg` on the invocation (not on pallet lines) keeps the optional crates out of
// the dev build entirely.
#[cfg(not(feature = "parachain"))]
frame_support::construct_runtime!(
	pub enum Runtime {
		System: frame_system = 0,
		Timestamp: pallet_timestamp = 1,
		Balances: pallet_balances = 2,
		TransactionPayment: pallet_transaction_payment = 3,
		Sudo: pallet_sudo = 4,

		DinfraProviders: pallet_dinfra_providers = 20,
		DinfraSubscriptions: pallet_dinfra_subscriptions = 21,
	}
);

#[cfg(feature = "parachain")]
frame_support::construct_runtime!(
	pub enum Runtime {
		System: frame_system = 0,
		// Its inherent (relay-chain validation data) must come first in a block.
		ParachainSystem: cumulus_pallet_parachain_system = 10,
		Timestamp: pallet_timestamp = 1,
		ParachainInfo: staging_parachain_info = 11,
		Balances: pallet_balances = 2,
		TransactionPayment: pallet_transaction_payment = 3,
		Sudo: pallet_sudo = 4,
		Aura: pallet_aura = 12,
		AuraExt: cumulus_pallet_aura_ext = 13,

		DinfraProviders: pallet_dinfra_providers = 20,
		DinfraSubscriptions: pallet_dinfra_subscriptions = 21,
	}
);
