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

/// `n` deployments subscribed in the same block, so that they share their deadlines. Each has
/// its own consumer, and the providers are as many as a type allows, so that per-deployment
/// work reads distinct accounts, holds and offers: the worst case for the hook.
fn subscribed<T: Config>(n: u32) -> (Vec<T::AccountId>, Vec<T::AccountId>, Vec<DeploymentId>) {
	let provider_count = n.clamp(1, T::Assigner::max_candidates());
	let (type_id, providers) = T::BenchmarkHelper::setup_offers(provider_count, n.max(1), PRICE.into());
	let consumers: Vec<T::AccountId> = (0..n.max(1)).map(|i| funded::<T>("consumer", i)).collect();
	let ids = (0..n)
		.map(|i| {
			let id = NextDeploymentId::<T>::get();
			Pallet::<T>::subscribe(
				RawOrigin::Signed(consumers[i as usize].clone()).into(),
				type_id,
				max_cid::<T>(),
				deposit::<T>(),
				AssignmentStrategy::RoundRobin,
				Some(providers[(i % provider_count) as usize].clone()),
			)
			.expect("subscribes");
			id
		})
		.collect();
	(providers, consumers, ids)
}

/// The provider of deployment `id`.
fn provider_of<T: Config>(id: DeploymentId) -> T::AccountId {
	Deployments::<T>::get(id).expect("exists").provider
}

/// The consumer of deployment `id`.
fn consumer_of<T: Config>(id: DeploymentId) -> T::AccountId {
	Deployments::<T>::get(id).expect("exists").consumer
}

fn deploy_all<T: Config>(ids: &[DeploymentId]) {
	for id in ids {
		Pallet::<T>::report_deployed(RawOrigin::Signed(provider_of::<T>(*id)).into(), *id, vec![b'a'; 16])
			.expect("deploys");
	}
}

fn cancel_all<T: Config>(ids: &[DeploymentId]) {
	for id in ids {
		Pallet::<T>::cancel(RawOrigin::Signed(consumer_of::<T>(*id)).into(), *id).expect("cancels");
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
		let (_, _, ids) = subscribed::<T>(1);
		let provider = provider_of::<T>(ids[0]);
		let info = vec![b'a'; T::MaxAccessInfoLen::get() as usize];
		let runs_out = Pallet::<T>::runs_out_at(&Deployments::<T>::get(ids[0]).unwrap(), System::<T>::block_number());
		crowd_deadlines::<T>(runs_out);
		#[extrinsic_call]
		_(RawOrigin::Signed(provider), ids[0], info);
		assert_eq!(Deployments::<T>::get(ids[0]).unwrap().state, DeploymentState::Running);
	}

	#[benchmark]
	fn report_failed() {
		let (_, _, ids) = subscribed::<T>(1);
		let provider = provider_of::<T>(ids[0]);
		deploy_all::<T>(&ids);
		advance::<T>(10);
		crowd_deadlines::<T>(System::<T>::block_number().saturating_add(T::FinishedRetention::get()));
		let reason = vec![b'r'; T::MaxReasonLen::get() as usize];
		#[extrinsic_call]
		_(RawOrigin::Signed(provider), ids[0], reason);
		assert!(matches!(Deployments::<T>::get(ids[0]).unwrap().state, DeploymentState::Failed { .. }));
	}

	#[benchmark]
	fn report_terminated() {
		let (_, _, ids) = subscribed::<T>(1);
		let provider = provider_of::<T>(ids[0]);
		deploy_all::<T>(&ids);
		advance::<T>(10);
		cancel_all::<T>(&ids);
		crowd_deadlines::<T>(System::<T>::block_number().saturating_add(T::FinishedRetention::get()));
		#[extrinsic_call]
		_(RawOrigin::Signed(provider), ids[0]);
		assert!(matches!(Deployments::<T>::get(ids[0]).unwrap().state, DeploymentState::Terminated { .. }));
	}

	#[benchmark]
	fn top_up() {
		let (_, _, ids) = subscribed::<T>(1);
		let consumer = consumer_of::<T>(ids[0]);
		deploy_all::<T>(&ids);
		advance::<T>(10);
		let d = Deployments::<T>::get(ids[0]).unwrap();
		crowd_deadlines::<T>(d.deadline.saturating_add(1_000_000u32.into()));
		#[extrinsic_call]
		_(RawOrigin::Signed(consumer), ids[0], deposit::<T>());
		assert!(Deployments::<T>::get(ids[0]).unwrap().deadline > d.deadline);
	}

	#[benchmark]
	fn cancel() {
		let (_, _, ids) = subscribed::<T>(1);
		let consumer = consumer_of::<T>(ids[0]);
		deploy_all::<T>(&ids);
		advance::<T>(10);
		crowd_deadlines::<T>(System::<T>::block_number().saturating_add(T::TeardownTimeout::get()));
		#[extrinsic_call]
		_(RawOrigin::Signed(consumer), ids[0]);
		assert!(matches!(Deployments::<T>::get(ids[0]).unwrap().state, DeploymentState::Terminating { .. }));
	}

	#[benchmark]
	fn settle() {
		let (_, _, ids) = subscribed::<T>(1);
		let consumer = consumer_of::<T>(ids[0]);
		deploy_all::<T>(&ids);
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
		let (_, _, ids) = subscribed::<T>(n);
		deploy_all::<T>(&ids);
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
		let (_, _, ids) = subscribed::<T>(n);
		deploy_all::<T>(&ids);
		advance::<T>(10);
		cancel_all::<T>(&ids);
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
		let (_, _, ids) = subscribed::<T>(n);
		for id in &ids {
			Pallet::<T>::report_failed(RawOrigin::Signed(provider_of::<T>(*id)).into(), *id, vec![b'x'])
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
