//! The parachain half of the runtime, built with the `parachain` cargo feature: cumulus's
//! parachain system (relay-chain validation data, runtime upgrades through the relay),
//! parachain info (the para id), and Aura block authoring with the relay-aware consensus
//! hook. No XCM: DINFRA needs none to run, and a network that wants it adds the XCMP queue
//! and message queue here.

use crate::*;
use polkadot_sdk::{
	cumulus_pallet_parachain_system::RelayNumberMonotonicallyIncreases,
	frame_support::{
		parameter_types,
		traits::{ConstBool, ConstU32, ConstU64},
	},
};

/// The key type of Aura authorities.
pub use polkadot_sdk::sp_consensus_aura::sr25519::AuthorityId as AuraId;

/// Relay-chain slot length; the consensus hook counts parachain blocks per relay slot.
pub const RELAY_CHAIN_SLOT_DURATION_MILLIS: u32 = 6_000;
/// Parachain blocks per relay block: one, without elastic scaling.
pub const BLOCK_PROCESSING_VELOCITY: u32 = 1;
/// Parachain blocks that may be authored before the relay chain includes them.
pub const UNINCLUDED_SEGMENT_CAPACITY: u32 = 3;
/// Aura slot length.
pub const SLOT_DURATION: u64 = MILLISECS_PER_BLOCK;

/// The para id the `development` preset uses; a real network sets its own in the chain spec.
pub const DEV_PARA_ID: u32 = 2_000;

pub type ConsensusHook = cumulus_pallet_aura_ext::FixedVelocityConsensusHook<
	Runtime,
	RELAY_CHAIN_SLOT_DURATION_MILLIS,
	BLOCK_PROCESSING_VELOCITY,
	UNINCLUDED_SEGMENT_CAPACITY,
>;

parameter_types! {
	pub const ReservedXcmpWeight: Weight = MAXIMUM_BLOCK_WEIGHT.saturating_div(4);
	pub const ReservedDmpWeight: Weight = MAXIMUM_BLOCK_WEIGHT.saturating_div(4);
}

impl cumulus_pallet_parachain_system::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnSystemEvent = ();
	type SelfParaId = staging_parachain_info::Pallet<Runtime>;
	type OutboundXcmpMessageSource = ();
	type DmpQueue = ();
	type ReservedDmpWeight = ReservedDmpWeight;
	type XcmpMessageHandler = ();
	type ReservedXcmpWeight = ReservedXcmpWeight;
	type CheckAssociatedRelayNumber = RelayNumberMonotonicallyIncreases;
	type WeightInfo = ();
	type ConsensusHook = ConsensusHook;
	type RelayParentOffset = ConstU32<0>;
	/// V3 scheduling (signed scheduling info from the collator) stays off.
	type SchedulingSignatureVerifier = ();
}

impl staging_parachain_info::Config for Runtime {}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	type MaxAuthorities = ConstU32<100>;
	type AllowMultipleBlocksPerSlot = ConstBool<true>;
	type SlotDuration = ConstU64<SLOT_DURATION>;
}

impl cumulus_pallet_aura_ext::Config for Runtime {}

cumulus_pallet_parachain_system::register_validate_block! {
	Runtime = Runtime,
	BlockExecutor = cumulus_pallet_aura_ext::BlockExecutor::<Runtime, Executive>,
}
