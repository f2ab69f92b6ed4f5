//! The deadline index: each deployment is listed under the one block at which
//! `on_initialize` must next act on it, so per-block work never depends on how many
//! deployments exist.

use crate::{
	pallet::{Config, ConsumerDeployments, Deadlines, Deployments, Error, Event, Pallet, ProviderDeployments},
	Deployment, DeploymentState, FailureReason, TerminationReason, WeightInfo,
};
use dinfra_primitives::DeploymentId;
use polkadot_sdk::{
	frame_support::{defensive, pallet_prelude::*},
	frame_system::{self, pallet_prelude::BlockNumberFor},
	sp_runtime::traits::{One, Saturating},
};

/// What a deadline did, for weight accounting.
#[derive(Default)]
pub(crate) struct DeadlineCounts {
	award_timeouts: u32,
	exhausted: u32,
	teardown_timeouts: u32,
	/// Purges, and entries that no longer apply (cheapest kind).
	purged: u32,
}

impl<T: Config> Pallet<T> {
	/// Lists `id` under block `at`, or the first later block (within `MaxDeadlineSearch`)
	/// whose bucket has room. Returns the block used. Never schedules in the past.
	pub(crate) fn schedule(id: DeploymentId, at: BlockNumberFor<T>) -> Result<BlockNumberFor<T>, DispatchError> {
		let earliest = frame_system::Pallet::<T>::block_number().saturating_add(One::one());
		let mut block = at.max(earliest);
		for _ in 0..=T::MaxDeadlineSearch::get() {
			if Deadlines::<T>::try_mutate(block, |ids| ids.try_push(id)).is_ok() {
				return Ok(block);
			}
			block = block.saturating_add(One::one());
		}
		Err(Error::<T>::DeadlineQueueFull.into())
	}

	/// Removes `id` from the bucket of block `at`, deleting the bucket when it empties.
	pub(crate) fn unschedule(id: DeploymentId, at: BlockNumberFor<T>) {
		Deadlines::<T>::mutate_exists(at, |ids| {
			if let Some(list) = ids {
				list.retain(|x| *x != id);
				if list.is_empty() {
					*ids = None;
				}
			}
		});
	}

	/// Moves the deadline of `d` to `at` (or the first later block with room).
	pub(crate) fn reschedule(d: &mut Deployment<T>, id: DeploymentId, at: BlockNumberFor<T>) -> DispatchResult {
		Self::unschedule(id, d.deadline);
		d.deadline = Self::schedule(id, at)?;
		Ok(())
	}

	/// Handles every deployment whose deadline is `now`; returns the weight used.
	pub(crate) fn process_deadlines(now: BlockNumberFor<T>) -> Weight {
		let due = Deadlines::<T>::take(now);
		if due.is_empty() {
			return T::WeightInfo::purge_finished(0);
		}
		let mut counts = DeadlineCounts::default();
		for id in due {
			Self::handle_deadline(id, now, &mut counts);
		}
		let mut weight = Weight::zero();
		for (count, cost) in [
			(counts.award_timeouts, T::WeightInfo::expire_awarded as fn(u32) -> Weight),
			(counts.exhausted, T::WeightInfo::expire_running),
			(counts.teardown_timeouts, T::WeightInfo::expire_terminating),
			(counts.purged, T::WeightInfo::purge_finished),
		] {
			if count > 0 {
				weight = weight.saturating_add(cost(count));
			}
		}
		weight
	}

	fn handle_deadline(id: DeploymentId, now: BlockNumberFor<T>, counts: &mut DeadlineCounts) {
		let Some(mut d) = Deployments::<T>::get(id) else {
			counts.purged += 1;
			return;
		};
		if d.deadline != now {
			counts.purged += 1;
			return;
		}
		// The state changes below also move the deadline. If every candidate bucket is full
		// the deadline cannot move; the state change still stands (funds have moved), and
		// the deployment keeps its past deadline, so only its later automatic step is lost.
		let moved = match d.state {
			DeploymentState::Awarded => {
				counts.award_timeouts += 1;
				Self::fail(&mut d, id, FailureReason::Timeout, now)
			},
			DeploymentState::Running => {
				counts.exhausted += 1;
				Self::settle_running(&mut d, id, now);
				Self::start_termination(&mut d, id, TerminationReason::Exhausted, now)
			},
			DeploymentState::Terminating { .. } => {
				counts.teardown_timeouts += 1;
				Self::finish_termination(&mut d, id, false, now)
			},
			DeploymentState::Terminated { .. } | DeploymentState::Failed { .. } => {
				counts.purged += 1;
				Deployments::<T>::remove(id);
				ProviderDeployments::<T>::remove(&d.provider, id);
				ConsumerDeployments::<T>::remove(&d.consumer, id);
				Self::deposit_event(Event::DeploymentPurged { id });
				return;
			},
		};
		if moved.is_err() {
			defensive!("deadline buckets full; a deployment lost its next automatic step");
		}
		Deployments::<T>::insert(id, d);
	}
}
