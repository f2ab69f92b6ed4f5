//! Lazy billing: paying the provider from the held deposit, and refunding the rest.

use crate::{
	pallet::{Config, Event, HoldReason, Pallet},
	BalanceOf, Deployment, DeploymentState,
};
use dinfra_primitives::DeploymentId;
use polkadot_sdk::{
	frame_support::traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
		Defensive,
	},
	frame_system::pallet_prelude::BlockNumberFor,
	sp_runtime::traits::{One, SaturatedConversion, Saturating, Zero},
};

impl<T: Config> Pallet<T> {
	/// The block at which the deposit of running deployment `d` runs out: `settled_until`
	/// plus the whole blocks the remaining deposit pays for. Never earlier than the next
	/// block, so that the deadline is always in the future.
	pub(crate) fn runs_out_at(d: &Deployment<T>, now: BlockNumberFor<T>) -> BlockNumberFor<T> {
		let affordable: u128 = if d.price_per_block.is_zero() {
			u128::MAX
		} else {
			(d.deposit / d.price_per_block).saturated_into()
		};
		let affordable: BlockNumberFor<T> = affordable.saturated_into();
		d.settled_until.saturating_add(affordable).max(now.saturating_add(One::one()))
	}

	/// Pays the provider of a running deployment for the blocks after `settled_until` up to
	/// `now` (or up to the block its deposit runs out, if earlier), never more than the
	/// deposit. Does nothing for a deployment that is not running.
	pub(crate) fn settle_running(d: &mut Deployment<T>, id: DeploymentId, now: BlockNumberFor<T>) {
		if d.state != DeploymentState::Running {
			return;
		}
		let until = now.min(d.deadline).max(d.settled_until);
		let blocks: u128 = until.saturating_sub(d.settled_until).saturated_into();
		let due = d.price_per_block.saturating_mul(blocks.saturated_into()).min(d.deposit);
		d.settled_until = until;
		if due.is_zero() {
			return;
		}
		// The held deposit always covers `due`; a failure here would mean the hold and the
		// bookkeeping disagree, which is a bug: report it, and pay nothing rather than panic.
		let paid = T::Currency::transfer_on_hold(
			&HoldReason::DeploymentDeposit.into(),
			&d.consumer,
			&d.provider,
			due,
			Precision::BestEffort,
			Restriction::Free,
			Fortitude::Polite,
		)
		.defensive_unwrap_or(Zero::zero());
		d.deposit = d.deposit.saturating_sub(paid);
		d.paid = d.paid.saturating_add(paid);
		Self::deposit_event(Event::DeploymentSettled { id, amount: paid, remaining_deposit: d.deposit });
	}

	/// Releases what is still held for `d` back to its consumer; returns the amount.
	pub(crate) fn refund_rest(d: &mut Deployment<T>) -> BalanceOf<T> {
		if d.deposit.is_zero() {
			return Zero::zero();
		}
		let refunded = T::Currency::release(
			&HoldReason::DeploymentDeposit.into(),
			&d.consumer,
			d.deposit,
			Precision::BestEffort,
		)
		.defensive_unwrap_or(Zero::zero());
		d.deposit = d.deposit.saturating_sub(refunded);
		refunded
	}
}
