//! # DINFRA subscriptions pallet
//!
//! A consumer subscribes a deployment: it names a deployment type, the CID of a descriptor
//! on IPFS, and a deposit. The chain awards the deployment to a provider (through the
//! [`dinfra_primitives::DeploymentAssigner`], usually the providers pallet), holds the deposit,
//! and pays the provider per block from it while the deployment runs.
//!
//! ## Lifecycle
//! `Awarded → Running → Terminating → Terminated`, plus `Awarded | Running → Failed`.
//! - `report_deployed` (provider): `Awarded → Running`; billing starts.
//! - `report_failed` (provider): `Awarded | Running → Failed`; the rest is refunded.
//! - `cancel` (consumer): `Awarded | Running → Terminating { Cancelled }`.
//! - the deposit running out: `Running → Terminating { Exhausted }`, in `on_initialize`.
//! - `report_terminated` (provider): `Terminating → Terminated`; the rest is refunded and
//!   the provider's capacity released.
//! - `AwardTimeout` blocks without a report: `Awarded → Failed { Timeout }`.
//! - `TeardownTimeout` blocks in `Terminating` without a report: `Terminated` with
//!   `confirmed: false`, so that a vanished provider cannot lock a deposit forever.
//! - `FinishedRetention` blocks after `Terminated` or `Failed`, the deployment is removed
//!   from storage; its events remain. State therefore never grows without bound.
//!
//! ## Billing
//! Lazy: a deployment is settled (price × blocks since the last settlement, capped by the
//! deposit) whenever it is touched, and by `settle`, which anyone may call. The price is fixed
//! at award time.
//!
//! ## Bounded per-block work
//! Nothing iterates over deployments. Each deployment has one `deadline`, and
//! [`Deadlines`] indexes deployments by that block. `on_initialize` takes only the bucket of
//! the current block, which holds at most `MaxDeadlinesPerBlock` ids.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod billing;
mod deadlines;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

use polkadot_sdk::frame_support::traits::fungible;

/// The account type of a runtime.
pub type AccountIdOf<T> = <T as polkadot_sdk::frame_system::Config>::AccountId;
/// The balance type of the currency used for deposits and prices.
pub type BalanceOf<T> = <<T as Config>::Currency as fungible::Inspect<AccountIdOf<T>>>::Balance;

#[polkadot_sdk::frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use dinfra_primitives::{AssignmentStrategy, DeploymentAssigner, DeploymentId, DeploymentTypeId};
	use polkadot_sdk::{
		frame_support::{
			pallet_prelude::*,
			traits::fungible::MutateHold,
		},
		frame_system::{self, pallet_prelude::*},
		sp_runtime::traits::{Saturating, Zero},
	};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// Deposits of a consumer's deployments (one hold per consumer, summed).
		DeploymentDeposit,
	}

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config {
		/// The currency deposits are held in and providers are paid in.
		type Currency: fungible::Inspect<Self::AccountId>
			+ fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's hold reason, which includes this pallet's [`HoldReason`].
		type RuntimeHoldReason: From<HoldReason>;

		/// Picks providers and counts their capacity.
		type Assigner: DeploymentAssigner<Self::AccountId, BalanceOf<Self>>;

		/// Blocks a provider has to report an awarded deployment deployed or failed.
		#[pallet::constant]
		type AwardTimeout: Get<BlockNumberFor<Self>>;

		/// Blocks a provider has to report a terminating deployment torn down before the chain
		/// settles it without the report.
		#[pallet::constant]
		type TeardownTimeout: Get<BlockNumberFor<Self>>;

		/// Blocks a terminated or failed deployment stays in storage before removal.
		#[pallet::constant]
		type FinishedRetention: Get<BlockNumberFor<Self>>;

		/// Longest descriptor CID string, in bytes.
		#[pallet::constant]
		type MaxCidLen: Get<u32>;

		/// Longest access info, in bytes.
		#[pallet::constant]
		type MaxAccessInfoLen: Get<u32>;

		/// Longest failure reason, in bytes.
		#[pallet::constant]
		type MaxReasonLen: Get<u32>;

		/// Most deployments with a deadline in one block: bounds `on_initialize`.
		#[pallet::constant]
		type MaxDeadlinesPerBlock: Get<u32>;

		/// When a block's deadline bucket is full, how many later blocks are tried.
		#[pallet::constant]
		type MaxDeadlineSearch: Get<u32>;

		/// Weights of this pallet's calls and hook, from its benchmarks.
		type WeightInfo: WeightInfo;

		/// Creates providers and offers for this pallet's benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: dinfra_primitives::AssignerBenchmarkHelper<Self::AccountId, BalanceOf<Self>>;
	}

	/// The id the next deployment gets. Ids are never reused.
	#[pallet::storage]
	pub type NextDeploymentId<T> = StorageValue<_, DeploymentId, ValueQuery>;

	/// Deployments by id, until `FinishedRetention` blocks after they end.
	#[pallet::storage]
	pub type Deployments<T: Config> = StorageMap<_, Twox64Concat, DeploymentId, Deployment<T>, OptionQuery>;

	/// A provider's deployments: (provider, id). Lets a reactor list its own deployments by
	/// prefix, without scanning everyone's.
	#[pallet::storage]
	pub type ProviderDeployments<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, DeploymentId, (), OptionQuery>;

	/// A consumer's deployments: (consumer, id).
	#[pallet::storage]
	pub type ConsumerDeployments<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, DeploymentId, (), OptionQuery>;

	/// Deployments whose `deadline` is this block.
	#[pallet::storage]
	pub type Deadlines<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<DeploymentId, T::MaxDeadlinesPerBlock>,
		ValueQuery,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A deployment was awarded to a provider; its deposit is held.
		DeploymentAwarded {
			id: DeploymentId,
			consumer: T::AccountId,
			provider: T::AccountId,
			type_id: DeploymentTypeId,
			descriptor_cid: CidOf<T>,
		},
		/// The provider deployed it; billing starts. `runs_out_at` is the block the deposit
		/// runs out at the fixed price.
		DeploymentRunning { id: DeploymentId, access_info: AccessInfoOf<T>, runs_out_at: BlockNumberFor<T> },
		/// The provider reported new access info for a running deployment.
		DeploymentAccessInfoUpdated { id: DeploymentId, access_info: AccessInfoOf<T> },
		/// The provider was paid from the deposit.
		DeploymentSettled { id: DeploymentId, amount: BalanceOf<T>, remaining_deposit: BalanceOf<T> },
		/// The consumer added to the deposit.
		DeploymentToppedUp { id: DeploymentId, amount: BalanceOf<T>, deposit: BalanceOf<T> },
		/// The deposit now runs out at a different block.
		DeploymentRunsOutAt { id: DeploymentId, block: BlockNumberFor<T> },
		/// The deployment must be torn down.
		DeploymentTerminating { id: DeploymentId, reason: TerminationReason },
		/// The deployment was torn down and settled; the rest of the deposit was refunded.
		DeploymentTerminated { id: DeploymentId, reason: TerminationReason, confirmed: bool, refunded: BalanceOf<T> },
		/// The deployment failed; the rest of the deposit was refunded.
		DeploymentFailed { id: DeploymentId, reason: FailureReason<T>, refunded: BalanceOf<T> },
		/// A finished deployment was removed from storage.
		DeploymentPurged { id: DeploymentId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The descriptor CID is longer than `MaxCidLen` bytes.
		CidTooLong,
		/// The descriptor CID is empty or has a character no multibase CID string has.
		InvalidCid,
		/// The access info is longer than `MaxAccessInfoLen` bytes.
		AccessInfoTooLong,
		/// The failure reason is longer than `MaxReasonLen` bytes.
		ReasonTooLong,
		/// Access info and reasons must be valid UTF-8 text.
		InvalidText,
		/// A deposit or top-up of zero.
		ZeroAmount,
		/// The deposit does not pay for even one block at the awarded price.
		DepositBelowPrice,
		/// No deployment has this id (it never existed, or was purged after it ended).
		UnknownDeployment,
		/// Only the provider the deployment was awarded to may report on it.
		NotTheProvider,
		/// Only the consumer who subscribed may top up or cancel.
		NotTheConsumer,
		/// The deployment is terminating or has ended; only an Awarded or Running deployment
		/// can be deployed, failed, topped up or cancelled.
		DeploymentNotActive,
		/// Only a Terminating deployment can be reported terminated.
		DeploymentNotTerminating,
		/// Only a Running deployment is billed, so only it can be settled.
		DeploymentNotRunning,
		/// All deployment ids are used.
		DeploymentIdsExhausted,
		/// Every block tried for this deadline already has `MaxDeadlinesPerBlock` deadlines.
		DeadlineQueueFull,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Acts on the deployments whose deadline is this block, and only on those.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::process_deadlines(now)
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Subscribes a deployment of `type_id` described by `descriptor_cid`, holding
		/// `deposit` from the caller. The provider is `provider` if given (and eligible), else
		/// one chosen by `strategy`. Emits `DeploymentAwarded`. If no provider is eligible,
		/// fails and moves no funds.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::subscribe(T::Assigner::max_candidates()))]
		pub fn subscribe(
			origin: OriginFor<T>,
			type_id: DeploymentTypeId,
			descriptor_cid: Vec<u8>,
			deposit: BalanceOf<T>,
			strategy: AssignmentStrategy,
			provider: Option<T::AccountId>,
		) -> DispatchResult {
			let consumer = ensure_signed(origin)?;
			ensure!(descriptor_cid.len() <= T::MaxCidLen::get() as usize, Error::<T>::CidTooLong);
			ensure!(dinfra_primitives::is_plausible_cid(&descriptor_cid), Error::<T>::InvalidCid);
			let descriptor_cid = CidOf::<T>::try_from(descriptor_cid).map_err(|_| Error::<T>::CidTooLong)?;
			ensure!(!deposit.is_zero(), Error::<T>::ZeroAmount);

			// Calls are transactional: any error below also undoes the capacity reservation.
			let assignment = T::Assigner::assign(type_id, &consumer, strategy, provider.as_ref())?;
			ensure!(deposit >= assignment.price_per_block, Error::<T>::DepositBelowPrice);
			T::Currency::hold(&HoldReason::DeploymentDeposit.into(), &consumer, deposit)?;

			let id = NextDeploymentId::<T>::get();
			NextDeploymentId::<T>::put(id.checked_add(1).ok_or(Error::<T>::DeploymentIdsExhausted)?);
			let now = frame_system::Pallet::<T>::block_number();
			let deadline = Self::schedule(id, now.saturating_add(T::AwardTimeout::get()))?;

			ProviderDeployments::<T>::insert(&assignment.provider, id, ());
			ConsumerDeployments::<T>::insert(&consumer, id, ());
			Deployments::<T>::insert(
				id,
				Deployment {
					consumer: consumer.clone(),
					provider: assignment.provider.clone(),
					type_id,
					descriptor_cid: descriptor_cid.clone(),
					price_per_block: assignment.price_per_block,
					deposit,
					paid: Zero::zero(),
					state: DeploymentState::Awarded,
					awarded_at: now,
					settled_until: now,
					deadline,
					access_info: Default::default(),
				},
			);
			Self::deposit_event(Event::DeploymentAwarded {
				id,
				consumer,
				provider: assignment.provider,
				type_id,
				descriptor_cid,
			});
			Ok(())
		}

		/// The provider reports deployment `id` running, with `access_info` for the consumer
		/// (e.g. an address and ports). `Awarded → Running`: billing starts at this block.
		/// On a `Running` deployment it only replaces the access info (after a redeploy).
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::report_deployed())]
		pub fn report_deployed(origin: OriginFor<T>, id: DeploymentId, access_info: Vec<u8>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let access_info = Self::text::<T::MaxAccessInfoLen>(access_info, Error::<T>::AccessInfoTooLong)?;
			let mut d = Self::provider_deployment(&who, id)?;
			let now = frame_system::Pallet::<T>::block_number();
			match d.state {
				DeploymentState::Awarded => {
					d.state = DeploymentState::Running;
					d.settled_until = now;
					d.access_info = access_info.clone();
					let runs_out_at = Self::runs_out_at(&d, now);
					Self::reschedule(&mut d, id, runs_out_at)?;
					Deployments::<T>::insert(id, d.clone());
					Self::deposit_event(Event::DeploymentRunning { id, access_info, runs_out_at: d.deadline });
				},
				DeploymentState::Running => {
					d.access_info = access_info.clone();
					Deployments::<T>::insert(id, d);
					Self::deposit_event(Event::DeploymentAccessInfoUpdated { id, access_info });
				},
				_ => return Err(Error::<T>::DeploymentNotActive.into()),
			}
			Ok(())
		}

		/// The provider reports deployment `id` failed, with a `reason` the consumer can act
		/// on. `Awarded | Running → Failed`: a running deployment is settled first, then the
		/// rest of the deposit is refunded and the capacity released.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::report_failed())]
		pub fn report_failed(origin: OriginFor<T>, id: DeploymentId, reason: Vec<u8>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let reason = Self::text::<T::MaxReasonLen>(reason, Error::<T>::ReasonTooLong)?;
			let mut d = Self::provider_deployment(&who, id)?;
			ensure!(d.state.is_active(), Error::<T>::DeploymentNotActive);
			let now = frame_system::Pallet::<T>::block_number();
			Self::settle_running(&mut d, id, now);
			Self::fail(&mut d, id, FailureReason::Provider(reason), now)?;
			Deployments::<T>::insert(id, d);
			Ok(())
		}

		/// The provider reports deployment `id` torn down. `Terminating → Terminated`: the rest
		/// of the deposit is refunded and the provider's capacity released.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::report_terminated())]
		pub fn report_terminated(origin: OriginFor<T>, id: DeploymentId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut d = Self::provider_deployment(&who, id)?;
			ensure!(matches!(d.state, DeploymentState::Terminating { .. }), Error::<T>::DeploymentNotTerminating);
			let now = frame_system::Pallet::<T>::block_number();
			Self::finish_termination(&mut d, id, true, now)?;
			Deployments::<T>::insert(id, d);
			Ok(())
		}

		/// The consumer adds `amount` to the deposit of deployment `id`. For a running
		/// deployment the block at which the deposit runs out moves later.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::top_up())]
		pub fn top_up(origin: OriginFor<T>, id: DeploymentId, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			let mut d = Self::consumer_deployment(&who, id)?;
			ensure!(d.state.is_active(), Error::<T>::DeploymentNotActive);
			T::Currency::hold(&HoldReason::DeploymentDeposit.into(), &who, amount)?;
			let now = frame_system::Pallet::<T>::block_number();
			Self::settle_running(&mut d, id, now);
			d.deposit = d.deposit.saturating_add(amount);
			Self::deposit_event(Event::DeploymentToppedUp { id, amount, deposit: d.deposit });
			if d.state == DeploymentState::Running {
				let runs_out_at = Self::runs_out_at(&d, now);
				Self::reschedule(&mut d, id, runs_out_at)?;
				Self::deposit_event(Event::DeploymentRunsOutAt { id, block: d.deadline });
			}
			Deployments::<T>::insert(id, d);
			Ok(())
		}

		/// The consumer cancels deployment `id`: `Awarded | Running → Terminating { Cancelled }`.
		/// A running deployment is settled up to this block; billing then stops.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::cancel())]
		pub fn cancel(origin: OriginFor<T>, id: DeploymentId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut d = Self::consumer_deployment(&who, id)?;
			ensure!(d.state.is_active(), Error::<T>::DeploymentNotActive);
			let now = frame_system::Pallet::<T>::block_number();
			Self::settle_running(&mut d, id, now);
			Self::start_termination(&mut d, id, TerminationReason::Cancelled, now)?;
			Deployments::<T>::insert(id, d);
			Ok(())
		}

		/// Pays the provider of running deployment `id` for the blocks since the last
		/// settlement. Anyone may call it.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::settle())]
		pub fn settle(origin: OriginFor<T>, id: DeploymentId) -> DispatchResult {
			ensure_signed(origin)?;
			let mut d = Deployments::<T>::get(id).ok_or(Error::<T>::UnknownDeployment)?;
			ensure!(d.state == DeploymentState::Running, Error::<T>::DeploymentNotRunning);
			Self::settle_running(&mut d, id, frame_system::Pallet::<T>::block_number());
			Deployments::<T>::insert(id, d);
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Deployment `id`, if `who` is its provider.
		fn provider_deployment(who: &T::AccountId, id: DeploymentId) -> Result<Deployment<T>, DispatchError> {
			let d = Deployments::<T>::get(id).ok_or(Error::<T>::UnknownDeployment)?;
			ensure!(&d.provider == who, Error::<T>::NotTheProvider);
			Ok(d)
		}

		/// Deployment `id`, if `who` is its consumer.
		fn consumer_deployment(who: &T::AccountId, id: DeploymentId) -> Result<Deployment<T>, DispatchError> {
			let d = Deployments::<T>::get(id).ok_or(Error::<T>::UnknownDeployment)?;
			ensure!(&d.consumer == who, Error::<T>::NotTheConsumer);
			Ok(d)
		}

		/// Bounded UTF-8 text from a call argument.
		fn text<S: Get<u32>>(raw: Vec<u8>, too_long: Error<T>) -> Result<BoundedVec<u8, S>, DispatchError> {
			ensure!(raw.len() <= S::get() as usize, too_long);
			ensure!(core::str::from_utf8(&raw).is_ok(), Error::<T>::InvalidText);
			Ok(BoundedVec::<u8, S>::try_from(raw).map_err(|_| too_long)?)
		}

		/// Running/terminating → Terminating; billing stops and the provider has
		/// `TeardownTimeout` blocks to report the teardown.
		pub(crate) fn start_termination(
			d: &mut Deployment<T>,
			id: DeploymentId,
			reason: TerminationReason,
			now: BlockNumberFor<T>,
		) -> DispatchResult {
			d.state = DeploymentState::Terminating { reason };
			Self::reschedule(d, id, now.saturating_add(T::TeardownTimeout::get()))?;
			Self::deposit_event(Event::DeploymentTerminating { id, reason });
			Ok(())
		}

		/// Terminating → Terminated: refund the rest, release capacity, schedule removal.
		pub(crate) fn finish_termination(
			d: &mut Deployment<T>,
			id: DeploymentId,
			confirmed: bool,
			now: BlockNumberFor<T>,
		) -> DispatchResult {
			let DeploymentState::Terminating { reason } = d.state else {
				return Err(Error::<T>::DeploymentNotTerminating.into());
			};
			let refunded = Self::refund_rest(d);
			T::Assigner::release(&d.provider, d.type_id);
			d.state = DeploymentState::Terminated { reason, confirmed };
			Self::reschedule(d, id, now.saturating_add(T::FinishedRetention::get()))?;
			Self::deposit_event(Event::DeploymentTerminated { id, reason, confirmed, refunded });
			Ok(())
		}

		/// Awarded/Running → Failed: refund the rest, release capacity, schedule removal.
		/// A running deployment must have been settled by the caller.
		pub(crate) fn fail(
			d: &mut Deployment<T>,
			id: DeploymentId,
			reason: FailureReason<T>,
			now: BlockNumberFor<T>,
		) -> DispatchResult {
			let refunded = Self::refund_rest(d);
			T::Assigner::release(&d.provider, d.type_id);
			d.state = DeploymentState::Failed { reason: reason.clone() };
			Self::reschedule(d, id, now.saturating_add(T::FinishedRetention::get()))?;
			Self::deposit_event(Event::DeploymentFailed { id, reason, refunded });
			Ok(())
		}
	}
}
