//! Benchmarks of the providers pallet. Each measures the worst case its weight must cover:
//! longest names and CIDs, full candidate lists, and the most offers and allow-list entries.

use super::*;
use crate::pallet::{AllowList, DeploymentTypes, NextDeploymentTypeId, OfferedBy, Offers, Providers};
use alloc::{vec, vec::Vec};
use dinfra_primitives::{AssignerBenchmarkHelper, DeploymentTypeId};
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::traits::fungible::Mutate,
	frame_system::RawOrigin,
	sp_runtime::traits::{Bounded, Get},
};

/// An account with enough balance for every deposit a benchmark may hold from it.
fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	let _ = T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 4096u32.into());
	who
}

fn max_name<T: Config>() -> Vec<u8> {
	vec![b'a'; T::MaxNameLen::get() as usize]
}

fn max_cid<T: Config>() -> Vec<u8> {
	vec![b'b'; T::MaxCidLen::get() as usize]
}

/// Registers a deployment type with a unique, maximal-length name.
fn new_type<T: Config>(owner: &T::AccountId) -> DeploymentTypeId {
	let id = NextDeploymentTypeId::<T>::get();
	let mut name = max_name::<T>();
	let digits = id.to_be_bytes();
	let len = name.len();
	for (i, d) in digits.iter().enumerate() {
		name[len - 8 + 2 * i] = b'a' + (d >> 4);
		name[len - 8 + 2 * i + 1] = b'a' + (d & 0x0f);
	}
	Pallet::<T>::do_register_deployment_type(owner, name, max_cid::<T>()).expect("benchmark type registers")
}

fn new_provider<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who = funded::<T>(name, index);
	Pallet::<T>::register_provider(RawOrigin::Signed(who.clone()).into(), max_name::<T>())
		.expect("benchmark provider registers");
	who
}

/// Fills the candidate list of `type_id` with placeholder accounts so that list operations
/// work on a list of maximal length. `leave_room` keeps that many slots free.
fn fill_candidates<T: Config>(type_id: DeploymentTypeId, leave_room: u32) {
	let mut list = OfferedBy::<T>::get(type_id);
	let target = T::MaxProvidersPerType::get().saturating_sub(leave_room);
	let mut i = 0;
	while (list.len() as u32) < target {
		list.try_push(account("filler", i, 0)).expect("below the bound");
		i += 1;
	}
	OfferedBy::<T>::insert(type_id, list);
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_deployment_type() {
		let caller = funded::<T>("caller", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), max_name::<T>(), max_cid::<T>());
		assert!(DeploymentTypes::<T>::contains_key(0));
	}

	#[benchmark]
	fn register_provider() {
		let caller = funded::<T>("caller", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), max_name::<T>());
		assert!(Providers::<T>::contains_key(&caller));
	}

	#[benchmark]
	fn set_provider_name() {
		let caller = new_provider::<T>("caller", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), max_name::<T>());
	}

	#[benchmark]
	fn set_provider_status() {
		let caller = new_provider::<T>("caller", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), ProviderStatus::Paused);
		assert_eq!(Providers::<T>::get(&caller).unwrap().status, ProviderStatus::Paused);
	}

	#[benchmark]
	fn deregister_provider(
		o: Linear<0, { T::MaxOffersPerProvider::get() }>,
		a: Linear<0, { T::MaxAllowListLen::get() }>,
	) {
		let caller = new_provider::<T>("caller", 0);
		for _ in 0..o {
			let type_id = new_type::<T>(&caller);
			fill_candidates::<T>(type_id, 1);
			Pallet::<T>::set_offer(RawOrigin::Signed(caller.clone()).into(), type_id, 10, 1u32.into())
				.expect("offer is set");
		}
		for i in 0..a {
			Pallet::<T>::allow_consumer(RawOrigin::Signed(caller.clone()).into(), account("consumer", i, 0))
				.expect("consumer is allowed");
		}
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()));
		assert!(!Providers::<T>::contains_key(&caller));
		assert_eq!(AllowList::<T>::iter_prefix(&caller).count(), 0);
	}

	#[benchmark]
	fn set_offer() {
		let caller = new_provider::<T>("caller", 0);
		let type_id = new_type::<T>(&caller);
		fill_candidates::<T>(type_id, 1);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), type_id, 10, 1u32.into());
		assert!(Offers::<T>::contains_key(&caller, type_id));
	}

	#[benchmark]
	fn remove_offer() {
		let caller = new_provider::<T>("caller", 0);
		let type_id = new_type::<T>(&caller);
		fill_candidates::<T>(type_id, 1);
		Pallet::<T>::set_offer(RawOrigin::Signed(caller.clone()).into(), type_id, 10, 1u32.into())
			.expect("offer is set");
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), type_id);
		assert!(!Offers::<T>::contains_key(&caller, type_id));
	}

	#[benchmark]
	fn set_consumer_policy() {
		let caller = new_provider::<T>("caller", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), ConsumerPolicy::AllowListOnly);
	}

	#[benchmark]
	fn allow_consumer() {
		let caller = new_provider::<T>("caller", 0);
		let consumer: T::AccountId = account("consumer", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), consumer.clone());
		assert!(AllowList::<T>::contains_key(&caller, &consumer));
	}

	#[benchmark]
	fn disallow_consumer() {
		let caller = new_provider::<T>("caller", 0);
		let consumer: T::AccountId = account("consumer", 0, 0);
		Pallet::<T>::allow_consumer(RawOrigin::Signed(caller.clone()).into(), consumer.clone())
			.expect("consumer is allowed");
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), consumer.clone());
		assert!(!AllowList::<T>::contains_key(&caller, &consumer));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}

impl<T: Config> AssignerBenchmarkHelper<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn setup_offers(
		providers: u32,
		capacity: u32,
		price_per_block: BalanceOf<T>,
	) -> (DeploymentTypeId, Vec<T::AccountId>) {
		let owner = funded::<T>("type-owner", 0);
		let type_id = new_type::<T>(&owner);
		let accounts: Vec<T::AccountId> = (0..providers)
			.map(|i| {
				let p = new_provider::<T>("provider", i);
				Pallet::<T>::set_offer(RawOrigin::Signed(p.clone()).into(), type_id, capacity, price_per_block)
					.expect("offer is set");
				p
			})
			.collect();
		(type_id, accounts)
	}

	fn exhaust_capacity(provider: &T::AccountId, type_id: DeploymentTypeId) {
		Offers::<T>::mutate(provider, type_id, |offer| {
			if let Some(offer) = offer {
				offer.capacity = offer.in_use;
			}
		});
	}
}
