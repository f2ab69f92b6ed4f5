//! Storage types of the subscriptions pallet. Field order is the SCALE encoding order;
//! `docs/chain.md` documents them for off-chain decoders.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use dinfra_primitives::DeploymentTypeId;
use polkadot_sdk::{
	frame_support::{BoundedVec, CloneNoBound, EqNoBound, PartialEqNoBound, DebugNoBound},
	frame_system::pallet_prelude::BlockNumberFor,
};
use core::fmt::Debug;
use scale_info::TypeInfo;

use crate::{BalanceOf, Config};

/// A descriptor CID in its string form.
pub type CidOf<T> = BoundedVec<u8, <T as Config>::MaxCidLen>;
/// How a consumer reaches its deployment, as reported by the provider (e.g. `203.0.113.7 ssh:22`).
pub type AccessInfoOf<T> = BoundedVec<u8, <T as Config>::MaxAccessInfoLen>;
/// A provider's explanation of a failure.
pub type ReasonOf<T> = BoundedVec<u8, <T as Config>::MaxReasonLen>;

/// Why a deployment is being, or was, torn down.
#[derive(
	Clone, Copy, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub enum TerminationReason {
	/// The consumer cancelled it.
	Cancelled,
	/// Its deposit ran out.
	Exhausted,
}

/// Why a deployment failed.
#[derive(CloneNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, DebugNoBound)]
#[scale_info(skip_type_params(T))]
pub enum FailureReason<T: Config> {
	/// The provider neither deployed nor failed it within `AwardTimeout` blocks.
	Timeout,
	/// The provider reported a failure, with its explanation.
	Provider(ReasonOf<T>),
}

/// Where a deployment is in its life.
///
/// `Awarded → Running → Terminating → Terminated`, and `Awarded | Running → Failed`.
/// `Awarded → Terminating` happens when the consumer cancels before the deployment runs.
#[derive(CloneNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, MaxEncodedLen, TypeInfo, DebugNoBound)]
#[scale_info(skip_type_params(T))]
pub enum DeploymentState<T: Config> {
	/// Assigned to a provider, which has not yet reported it deployed.
	Awarded,
	/// Deployed; billed every block.
	Running,
	/// The provider must tear it down and report `terminated`. Not billed.
	Terminating { reason: TerminationReason },
	/// Torn down and settled. `confirmed` is false when the provider never reported the
	/// teardown and `TeardownTimeout` settled it instead.
	Terminated { reason: TerminationReason, confirmed: bool },
	/// Never ran, or stopped running, for the given reason; the rest of the deposit was refunded.
	Failed { reason: FailureReason<T> },
}

impl<T: Config> DeploymentState<T> {
	/// Awarded or Running: the deployment can still be deployed, failed, topped up, cancelled.
	pub fn is_active(&self) -> bool {
		matches!(self, Self::Awarded | Self::Running)
	}
}

/// A deployment.
#[derive(CloneNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, MaxEncodedLen, TypeInfo, DebugNoBound)]
#[scale_info(skip_type_params(T))]
pub struct Deployment<T: Config> {
	pub consumer: T::AccountId,
	pub provider: T::AccountId,
	pub type_id: DeploymentTypeId,
	/// CID of the deployment descriptor (JSON) on IPFS.
	pub descriptor_cid: CidOf<T>,
	/// Fixed at award time from the provider's offer.
	pub price_per_block: BalanceOf<T>,
	/// What is still held from the consumer for this deployment.
	pub deposit: BalanceOf<T>,
	/// What the provider has been paid for this deployment so far.
	pub paid: BalanceOf<T>,
	pub state: DeploymentState<T>,
	pub awarded_at: BlockNumberFor<T>,
	/// Billing is settled up to and including this block.
	pub settled_until: BlockNumberFor<T>,
	/// The block at which `on_initialize` next acts on this deployment: the award timeout
	/// (Awarded), the block the deposit runs out (Running), the teardown timeout
	/// (Terminating), or removal from storage (Terminated, Failed).
	pub deadline: BlockNumberFor<T>,
	/// Set by the provider's `report_deployed`. Attacker-controlled text for off-chain tools.
	pub access_info: AccessInfoOf<T>,
}
