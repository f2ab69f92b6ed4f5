//! Benchmarks of the subscriptions pallet. Each measures the worst case its weight covers:
//! an assignment scanning every candidate, settlement with a payment, and deadline buckets
//! that are full up to the last block a deadline may be moved to.

use super::*;
use crate::pallet::{Deadlines, Deployments, NextDeploymentId};
use alloc::{vec, vec::Vec};
use dinfra_primitives::{AssignerBenchmarkHelper, AssignmentStrategy, DeploymentAssigner, DeploymentId};
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::{
		pallet_prelude::Get,
		traits::{fungible::Mutate, Hooks},
		BoundedVec,
	},
	frame_system::{pallet_prelude::BlockNumberFor, Pallet as System, RawOrigin},
	sp_runtime::traits::{Bounded, One, Saturating},
};

const PRICE: u32 = 1_000;

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	let _ = T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 4096u32.into());
	who
}

fn max_cid<T: Config>() -> Vec<u8> {
	vec![b'c'; T::MaxCidLen::get() as usize]
}

fn deposit<T: Config>() -> BalanceOf<T> {
	BalanceOf::<T>::from(PRICE).saturating_mul(1_000_000u32.into())
}

/// Fills the deadline buckets from `from` on, except the last one a deadline may be moved
/// to, so that scheduling probes every bucket.
fn crowd_deadlines<T: Config>(from: BlockNumberFor<T>) {
	let full: BoundedVec<DeploymentId, T::MaxDeadlinesPerBlock> =
		(0..T::MaxDeadlinesPerBlock::get()).map(|i| u64::MAX - i as u64).collect::<Vec<_>>().try_into().unwrap();
	let mut block = from;
	for _ in 0..T::MaxDeadlineSearch::get() {
		Deadlines::<T>::insert(block, full.clone());
		block = block.saturating_add(One::one());
	}
}

/// One provider with room for `n` deployments, and one consumer.
fn market<T: Config>(n: u32) -> (u32, T::AccountId, T::AccountId) {
	let (type_id, providers) = T::BenchmarkHelper::setup_offers(1, n.max(1), PRICE.into());
	(type_id, providers[0].clone(), funded::<T>("consumer", 0))
}

/// `n` deployments subscribed in the same block, so that they share their deadlines.
fn subscribed<T: Config>(n: u32) -> (T::AccountId, T::AccountId, Vec<DeploymentId>) {
	let (type_id, provider, consumer) = market::<T>(n);
	let ids = (0..n)
		.map(|_| {
			let id = NextDeploymentId::<T>::get();
			Pallet::<T>::subscribe(
				RawOrigin::Signed(consumer.clone()).into(),
				type_id,
				max_cid::<T>(),
				deposit::<T>(),
				AssignmentStrategy::RoundRobin,
				None,
			)
			.expect("subscribes");
			id
		})
		.collect();
	(provider, consumer, ids)
}

fn deploy_all<T: Config>(provider: &T::AccountId, ids: &[DeploymentId]) {
	for id in ids {
		Pallet::<T>::report_deployed(RawOrigin::Signed(provider.clone()).into(), *id, vec![b'a'; 16])
			.expect("deploys");
	}
}

fn advance<T: Config>(blocks: u32) {
	let now = System::<T>::block_number();
	System::<T>::set_block_number(now.saturating_add(blocks.into()));
}

/// Runs the deadline hook at the common deadline of `ids`, and checks it did something.
fn run_hook_at_deadline<T: Config>(ids: &[DeploymentId]) -> BlockNumberFor<T> {
	let at = ids.first().map(|id| Deployments::<T>::get(id).unwrap().deadline).unwrap_or_else(|| {
		System::<T>::block_number().saturating_add(One::one())
	});
	System::<T>::set_block_number(at);
	at
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn subscribe(p: Linear<1, { T::Assigner::max_candidates() }>) {
		let (type_id, providers) = T::BenchmarkHelper::setup_offers(p, 1, PRICE.into());
		// Every candidate but the last is full, so the round-robin scan reads all of them.
		for provider in &providers[..providers.len() - 1] {
			T::BenchmarkHelper::exhaust_capacity(provider, type_id);
		}
		let consumer = funded::<T>("consumer", 0);
		crowd_deadlines::<T>(System::<T>::block_number().saturating_add(T::AwardTimeout::get()));
		#[extrinsic_call]
		_(RawOrigin::Signed(consumer), type_id, max_cid::<T>(), deposit::<T>(), AssignmentStrategy::RoundRobin, None);
		let d = Deployments::<T>::get(0).expect("awarded");
		assert!(&d.provider == providers.last().unwrap());
	}

	#[benchmark]
	fn report_deployed() {
		let (provider, _, ids) = subscribed::<T>(1);
		let info = vec![b'a'; T::MaxAccessInfoLen::get() as usize];
		let runs_out = Pallet::<T>::runs_out_at(&Deployments::<T>::get(ids[0]).unwrap(), System::<T>::block_number());
		crowd_deadlines::<T>(runs_out);
		#[extrinsic_call]
		_(RawOrigin::Signed(provider), ids[0], info);
		assert_eq!(Deployments::<T>::get(ids[0]).unwrap().state, DeploymentState::Running);
	}

	#[benchmark]
	fn report_failed() {
		let (provider, _, ids) = subscribed::<T>(1);
		deploy_all::<T>(&provider, &ids);
		advance::<T>(10);
		crowd_deadlines::<T>(System::<T>::block_number().saturating_add(T::FinishedRetention::get()));
		let reason = vec![b'r'; T::MaxReasonLen::get() as usize];
		#[extrinsic_call]
		_(RawOrigin::Signed(provider), ids[0], reason);
		assert!(matches!(Deployments::<T>::get(ids[0]).unwrap().state, DeploymentState::Failed { .. }));
	}

	#[benchmark]
	fn report_terminated() {
		let (provider, consumer, ids) = subscribed::<T>(1);
		deploy_all::<T>(&provider, &ids);
		advance::<T>(10);
		Pallet::<T>::cancel(RawOrigin::Signed(consumer).into(), ids[0]).expect("cancels");
		crowd_deadlines::<T>(System::<T>::block_number().saturating_add(T::FinishedRetention::get()));
		#[extrinsic_call]
		_(RawOrigin::Signed(provider), ids[0]);
		assert!(matches!(Deployments::<T>::get(ids[0]).unwrap().state, DeploymentState::Terminated { .. }));
	}

	#[benchmark]
	fn top_up() {
		let (provider, consumer, ids) = subscribed::<T>(1);
		deploy_all::<T>(&provider, &ids);
		advance::<T>(10);
		let d = Deployments::<T>::get(ids[0]).unwrap();
		crowd_deadlines::<T>(d.deadline.saturating_add(1_000_000u32.into()));
		#[extrinsic_call]
		_(RawOrigin::Signed(consumer), ids[0], deposit::<T>());
		assert!(Deployments::<T>::get(ids[0]).unwrap().deadline > d.deadline);
	}

	#[benchmark]
	fn cancel() {
		let (provider, consumer, ids) = subscribed::<T>(1);
		deploy_all::<T>(&provider, &ids);
		advance::<T>(10);
		crowd_deadlines::<T>(System::<T>::block_number().saturating_add(T::TeardownTimeout::get()));
		#[extrinsic_call]
		_(RawOrigin::Signed(consumer), ids[0]);
		assert!(matches!(Deployments::<T>::get(ids[0]).unwrap().state, DeploymentState::Terminating { .. }));
	}

	#[benchmark]
	fn settle() {
		let (provider, consumer, ids) = subscribed::<T>(1);
		deploy_all::<T>(&provider, &ids);
		advance::<T>(10);
		#[extrinsic_call]
		_(RawOrigin::Signed(consumer), ids[0]);
		assert!(Deployments::<T>::get(ids[0]).unwrap().paid > 0u32.into());
	}

	#[benchmark]
	fn expire_awarded(n: Linear<0, { T::MaxDeadlinesPerBlock::get() }>) {
		let (_, _, ids) = subscribed::<T>(n);
		let at = run_hook_at_deadline::<T>(&ids);
		#[block]
		{
			Pallet::<T>::on_initialize(at);
		}
		for id in ids {
			assert!(matches!(Deployments::<T>::get(id).unwrap().state, DeploymentState::Failed { .. }));
		}
	}

	#[benchmark]
	fn expire_running(n: Linear<0, { T::MaxDeadlinesPerBlock::get() }>) {
		let (provider, _, ids) = subscribed::<T>(n);
		deploy_all::<T>(&provider, &ids);
		let at = run_hook_at_deadline::<T>(&ids);
		#[block]
		{
			Pallet::<T>::on_initialize(at);
		}
		for id in ids {
			assert!(matches!(Deployments::<T>::get(id).unwrap().state, DeploymentState::Terminating { .. }));
		}
	}

	#[benchmark]
	fn expire_terminating(n: Linear<0, { T::MaxDeadlinesPerBlock::get() }>) {
		let (provider, consumer, ids) = subscribed::<T>(n);
		deploy_all::<T>(&provider, &ids);
		advance::<T>(10);
		for id in &ids {
			Pallet::<T>::cancel(RawOrigin::Signed(consumer.clone()).into(), *id).expect("cancels");
		}
		let at = run_hook_at_deadline::<T>(&ids);
		#[block]
		{
			Pallet::<T>::on_initialize(at);
		}
		for id in ids {
			assert!(matches!(Deployments::<T>::get(id).unwrap().state, DeploymentState::Terminated { .. }));
		}
	}

	#[benchmark]
	fn purge_finished(n: Linear<0, { T::MaxDeadlinesPerBlock::get() }>) {
		let (provider, _, ids) = subscribed::<T>(n);
		for id in &ids {
			Pallet::<T>::report_failed(RawOrigin::Signed(provider.clone()).into(), *id, vec![b'x'])
				.expect("fails");
		}
		let at = run_hook_at_deadline::<T>(&ids);
		#[block]
		{
			Pallet::<T>::on_initialize(at);
		}
		for id in ids {
			assert!(Deployments::<T>::get(id).is_none());
		}
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
