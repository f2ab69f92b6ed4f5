//! Types and traits shared by `pallet-dinfra-providers` and `pallet-dinfra-subscriptions`.
//!
//! The subscriptions pallet never reads the providers pallet's storage: it asks for an
//! assignment through [`DeploymentAssigner`] and hands capacity back through the same
//! trait. That keeps the two pallets replaceable independently, and lets the mock runtime
//! of either pallet test it in isolation.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use polkadot_sdk::sp_runtime::DispatchError;
use scale_info::TypeInfo;

/// Identifier of a registered deployment type.
pub type DeploymentTypeId = u32;

/// Identifier of a deployment. Allocated from a counter; never reused.
pub type DeploymentId = u64;

/// Whether `raw` looks like a CID string: non-empty and alphanumeric, as every multibase
/// encoding of a CID used by IPFS (base32, base36, base58btc) is. The chain cannot resolve
/// a CID; off-chain readers verify content against it.
pub fn is_plausible_cid(raw: &[u8]) -> bool {
	!raw.is_empty() && raw.iter().all(u8::is_ascii_alphanumeric)
}

/// How the chain picks a provider when the consumer does not name one.
#[derive(
	Clone, Copy, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
	Debug, Default,
)]
pub enum AssignmentStrategy {
	/// The next eligible provider after the one picked last for this type.
	#[default]
	RoundRobin,
	/// An eligible provider chosen from the runtime's randomness source.
	Random,
	/// The eligible provider with the most free capacity for the type.
	CapacityBased,
}

/// The outcome of an assignment: who serves the deployment, at which price.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Assignment<AccountId, Balance> {
	pub provider: AccountId,
	/// Fixed for the life of the deployment, whatever the provider's offer becomes later.
	pub price_per_block: Balance,
}

/// Capacity bookkeeping offered by the providers pallet to the subscriptions pallet.
pub trait DeploymentAssigner<AccountId, Balance> {
	/// Whether a deployment type with this id is registered.
	fn deployment_type_exists(type_id: DeploymentTypeId) -> bool;

	/// Picks a provider for `type_id` and reserves one unit of its capacity.
	///
	/// With `preferred = Some(p)` only `p` is considered, and the error says why it is not
	/// eligible. Nothing is reserved when an error is returned.
	fn assign(
		type_id: DeploymentTypeId,
		consumer: &AccountId,
		strategy: AssignmentStrategy,
		preferred: Option<&AccountId>,
	) -> Result<Assignment<AccountId, Balance>, DispatchError>;

	/// The most candidates one assignment may examine; weights of callers scale with it.
	fn max_candidates() -> u32;

	/// Gives back the unit of capacity reserved by [`Self::assign`].
	fn release(provider: &AccountId, type_id: DeploymentTypeId);
}

/// Lets the subscriptions pallet's benchmarks create providers and offers without knowing
/// how the assigner stores them.
#[cfg(feature = "runtime-benchmarks")]
pub trait AssignerBenchmarkHelper<AccountId, Balance> {
	/// Registers a deployment type and `providers` funded, active providers that offer it
	/// with `capacity` units each at `price_per_block`. Returns the type and the providers,
	/// in the order the assigner scans them.
	fn setup_offers(
		providers: u32,
		capacity: u32,
		price_per_block: Balance,
	) -> (DeploymentTypeId, alloc::vec::Vec<AccountId>);

	/// Leaves `provider`'s offer for `type_id` in place with no free capacity, so that an
	/// assignment must read it and move on: the slowest way to be ineligible.
	fn exhaust_capacity(provider: &AccountId, type_id: DeploymentTypeId);
}
