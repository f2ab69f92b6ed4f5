//! Storage types of the providers pallet. Every field is SCALE-encoded in this order;
//! `docs/chain.md` documents them for off-chain decoders.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{
	frame_support::{BoundedVec, CloneNoBound, EqNoBound, PartialEqNoBound, DebugNoBound},
};
use core::fmt::Debug;
use scale_info::TypeInfo;

use crate::{BalanceOf, Config};

/// A name, bounded by `Config::MaxNameLen`.
pub type NameOf<T> = BoundedVec<u8, <T as Config>::MaxNameLen>;
/// A CID in its string form, bounded by `Config::MaxCidLen`.
pub type CidOf<T> = BoundedVec<u8, <T as Config>::MaxCidLen>;

/// A deployment type: what a descriptor of this type must look like (its JSON Schema, by CID).
#[derive(CloneNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, MaxEncodedLen, TypeInfo, DebugNoBound)]
#[scale_info(skip_type_params(T))]
pub struct DeploymentType<T: Config> {
	/// Who registered the type and holds its deposit.
	pub owner: T::AccountId,
	/// Unique, lower-case `[a-z0-9._-]` name, e.g. `cloudstack-vm`.
	pub name: NameOf<T>,
	/// CID of the type's JSON Schema (2020-12) on IPFS.
	pub schema_cid: CidOf<T>,
	/// Held from `owner` for as long as the type exists.
	pub deposit: BalanceOf<T>,
}

/// Whether a provider takes new deployments.
#[derive(
	Clone, Copy, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub enum ProviderStatus {
	/// Eligible for new deployments.
	Active,
	/// Keeps serving its live deployments but receives no new ones.
	Paused,
}

/// Which consumers a provider accepts.
#[derive(
	Clone, Copy, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub enum ConsumerPolicy {
	/// Any consumer account.
	AcceptAll,
	/// Only the accounts in the provider's allow-list.
	AllowListOnly,
}

/// A registered provider.
#[derive(CloneNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, MaxEncodedLen, TypeInfo, DebugNoBound)]
#[scale_info(skip_type_params(T))]
pub struct Provider<T: Config> {
	/// Free text shown to consumers. Attacker-controlled: off-chain tools must not template it.
	pub name: NameOf<T>,
	pub status: ProviderStatus,
	pub policy: ConsumerPolicy,
	/// Held for as long as the provider is registered.
	pub deposit: BalanceOf<T>,
	/// Deployments assigned to this provider that are not yet `Terminated` or `Failed`.
	pub live_deployments: u32,
	/// Number of entries in `Offers` for this provider (bounded by `MaxOffersPerProvider`).
	pub offer_count: u32,
	/// Number of entries in `AllowList` for this provider (bounded by `MaxAllowListLen`).
	pub allow_list_len: u32,
}

/// A provider's offer for one deployment type.
#[derive(CloneNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, MaxEncodedLen, TypeInfo, DebugNoBound)]
#[scale_info(skip_type_params(T))]
pub struct Offer<T: Config> {
	/// How many live deployments of the type the provider takes.
	pub capacity: u32,
	/// How many of those are taken now.
	pub in_use: u32,
	/// Price charged per block while a deployment runs. Fixed per deployment at award time.
	pub price_per_block: BalanceOf<T>,
}

impl<T: Config> Offer<T> {
	/// Units of capacity still free. Never underflows, even if capacity was lowered below use.
	pub fn free(&self) -> u32 {
		self.capacity.saturating_sub(self.in_use)
	}
}
