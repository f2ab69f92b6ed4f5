//! Unit tests of the providers pallet: every call's success, errors and events, deposits,
//! capacity accounting, the allow-list and each assignment strategy.

use crate::{mock::*, pallet::*, ConsumerPolicy, Event, HoldReason, ProviderStatus};
use dinfra_primitives::{AssignmentStrategy, DeploymentAssigner};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold},
	sp_runtime::{BuildStorage, DispatchError, TokenError},
};

const CID: &[u8] = b"bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";

fn last_event() -> RuntimeEvent {
	System::events().pop().expect("an event").event
}

fn held(who: AccountId, reason: HoldReason) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::DinfraProviders(reason), &who)
}

fn register_type(owner: AccountId, name: &[u8]) -> u32 {
	assert_ok!(DinfraProviders::register_deployment_type(RuntimeOrigin::signed(owner), name.to_vec(), CID.to_vec()));
	NextDeploymentTypeId::<Test>::get() - 1
}

fn register_provider(who: AccountId) {
	assert_ok!(DinfraProviders::register_provider(RuntimeOrigin::signed(who), b"Provider".to_vec()));
}

fn assign(type_id: u32, consumer: AccountId, strategy: AssignmentStrategy) -> Result<AccountId, DispatchError> {
	DinfraProviders::assign(type_id, &consumer, strategy, None).map(|a| a.provider)
}

fn in_use(provider: AccountId, type_id: u32) -> u32 {
	Offers::<Test>::get(provider, type_id).unwrap().in_use
}

// ---- deployment types ----

#[test]
fn register_deployment_type_holds_deposit_and_assigns_sequential_ids() {
	new_test_ext().execute_with(|| {
		assert_eq!(register_type(1, b"cloudstack-vm"), 0);
		assert_eq!(
			last_event(),
			RuntimeEvent::DinfraProviders(Event::DeploymentTypeRegistered {
				type_id: 0,
				owner: 1,
				name: b"cloudstack-vm".to_vec().try_into().unwrap(),
				schema_cid: CID.to_vec().try_into().unwrap(),
			})
		);
		assert_eq!(register_type(1, b"substrate-node"), 1);
		assert_eq!(held(1, HoldReason::DeploymentTypeDeposit), 2 * TYPE_DEPOSIT);
		assert_eq!(Balances::free_balance(1), INITIAL_BALANCE - 2 * TYPE_DEPOSIT);
		assert_eq!(DeploymentTypeIdByName::<Test>::get(
			crate::NameOf::<Test>::try_from(b"substrate-node".to_vec()).unwrap()), Some(1));
		let t = DeploymentTypes::<Test>::get(0).unwrap();
		assert_eq!((t.owner, t.deposit), (1, TYPE_DEPOSIT));
	});
}

#[test]
fn register_deployment_type_rejects_bad_names_and_cids() {
	new_test_ext().execute_with(|| {
		let reg = |name: &[u8], cid: &[u8]| {
			DinfraProviders::register_deployment_type(RuntimeOrigin::signed(1), name.to_vec(), cid.to_vec())
		};
		assert_noop!(reg(b"", CID), Error::<Test>::InvalidName);
		assert_noop!(reg(b"Upper", CID), Error::<Test>::InvalidName);
		assert_noop!(reg(b"sp ace", CID), Error::<Test>::InvalidName);
		assert_noop!(reg(b"{{ lookup('pipe','id') }}", CID), Error::<Test>::InvalidName);
		assert_noop!(reg(&[b'a'; 33], CID), Error::<Test>::NameTooLong);
		assert_noop!(reg(b"vm", b""), Error::<Test>::InvalidCid);
		assert_noop!(reg(b"vm", b"bafk/../x"), Error::<Test>::InvalidCid);
		assert_noop!(reg(b"vm", &[b'b'; 65]), Error::<Test>::CidTooLong);
		register_type(1, b"vm");
		assert_noop!(reg(b"vm", CID), Error::<Test>::DeploymentTypeNameTaken);
		assert_noop!(
			DinfraProviders::register_deployment_type(RuntimeOrigin::signed(POOR), b"other".to_vec(), CID.to_vec()),
			TokenError::FundsUnavailable
		);
	});
}

#[test]
fn deployment_type_ids_never_overflow() {
	new_test_ext().execute_with(|| {
		NextDeploymentTypeId::<Test>::put(u32::MAX);
		assert_noop!(
			DinfraProviders::register_deployment_type(RuntimeOrigin::signed(1), b"last".to_vec(), CID.to_vec()),
			Error::<Test>::DeploymentTypeIdsExhausted
		);
	});
}

// ---- providers ----

#[test]
fn register_provider_holds_deposit_and_starts_active_accepting_all() {
	new_test_ext().execute_with(|| {
		register_provider(2);
		assert_eq!(
			last_event(),
			RuntimeEvent::DinfraProviders(Event::ProviderRegistered { provider: 2, name: b"Provider".to_vec().try_into().unwrap() })
		);
		let p = Providers::<Test>::get(2).unwrap();
		assert_eq!((p.status, p.policy, p.deposit, p.live_deployments), (ProviderStatus::Active, ConsumerPolicy::AcceptAll, PROVIDER_DEPOSIT, 0));
		assert_eq!(held(2, HoldReason::ProviderDeposit), PROVIDER_DEPOSIT);
		assert_noop!(DinfraProviders::register_provider(RuntimeOrigin::signed(2), b"x".to_vec()), Error::<Test>::ProviderAlreadyRegistered);
		assert_noop!(DinfraProviders::register_provider(RuntimeOrigin::signed(3), vec![b'n'; 33]), Error::<Test>::NameTooLong);
		assert_noop!(DinfraProviders::register_provider(RuntimeOrigin::signed(3), vec![]), Error::<Test>::InvalidName);
		assert_noop!(DinfraProviders::register_provider(RuntimeOrigin::signed(3), vec![0xff, 0xfe]), Error::<Test>::InvalidName);
		assert_noop!(DinfraProviders::register_provider(RuntimeOrigin::signed(POOR), b"x".to_vec()), TokenError::FundsUnavailable);
	});
}

#[test]
fn provider_names_are_free_text() {
	new_test_ext().execute_with(|| {
		let jinja = b"{{ lookup('pipe', 'id') }}".to_vec();
		assert_ok!(DinfraProviders::register_provider(RuntimeOrigin::signed(2), jinja.clone()));
		assert_eq!(Providers::<Test>::get(2).unwrap().name.to_vec(), jinja);
		assert_ok!(DinfraProviders::set_provider_name(RuntimeOrigin::signed(2), b"Renamed".to_vec()));
		assert_eq!(
			last_event(),
			RuntimeEvent::DinfraProviders(Event::ProviderRenamed { provider: 2, name: b"Renamed".to_vec().try_into().unwrap() })
		);
		assert_noop!(DinfraProviders::set_provider_name(RuntimeOrigin::signed(3), b"x".to_vec()), Error::<Test>::NotAProvider);
	});
}

#[test]
fn set_provider_status_switches_and_emits() {
	new_test_ext().execute_with(|| {
		register_provider(2);
		assert_ok!(DinfraProviders::set_provider_status(RuntimeOrigin::signed(2), ProviderStatus::Paused));
		assert_eq!(Providers::<Test>::get(2).unwrap().status, ProviderStatus::Paused);
		assert_eq!(
			last_event(),
			RuntimeEvent::DinfraProviders(Event::ProviderStatusChanged { provider: 2, status: ProviderStatus::Paused })
		);
		assert_noop!(
			DinfraProviders::set_provider_status(RuntimeOrigin::signed(3), ProviderStatus::Active),
			Error::<Test>::NotAProvider
		);
	});
}

#[test]
fn deregister_provider_refused_while_live_then_cleans_up() {
	new_test_ext().execute_with(|| {
		let t0 = register_type(1, b"a");
		let t1 = register_type(1, b"b");
		register_provider(2);
		assert_ok!(DinfraProviders::set_offer(RuntimeOrigin::signed(2), t0, 1, 5));
		assert_ok!(DinfraProviders::set_offer(RuntimeOrigin::signed(2), t1, 1, 5));
		assert_ok!(DinfraProviders::allow_consumer(RuntimeOrigin::signed(2), 3));
		assert_eq!(assign(t0, 3, AssignmentStrategy::RoundRobin), Ok(2));

		assert_noop!(DinfraProviders::deregister_provider(RuntimeOrigin::signed(2)), Error::<Test>::ProviderHasLiveDeployments);
		DinfraProviders::release(&2, t0);
		assert_ok!(DinfraProviders::deregister_provider(RuntimeOrigin::signed(2)));
		assert_eq!(last_event(), RuntimeEvent::DinfraProviders(Event::ProviderDeregistered { provider: 2 }));
		assert!(Providers::<Test>::get(2).is_none());
		assert_eq!(Offers::<Test>::iter_prefix(2).count(), 0);
		assert!(OfferedBy::<Test>::get(t0).is_empty() && OfferedBy::<Test>::get(t1).is_empty());
		assert!(!AllowList::<Test>::contains_key(2, 3));
		assert_eq!(held(2, HoldReason::ProviderDeposit), 0);
		assert_eq!(Balances::free_balance(2), INITIAL_BALANCE);
		assert_noop!(DinfraProviders::deregister_provider(RuntimeOrigin::signed(2)), Error::<Test>::NotAProvider);
	});
}

// ---- offers ----

#[test]
fn set_offer_creates_updates_and_validates() {
	new_test_ext().execute_with(|| {
		let t = register_type(1, b"vm");
		assert_noop!(DinfraProviders::set_offer(RuntimeOrigin::signed(2), t, 1, 5), Error::<Test>::NotAProvider);
		register_provider(2);
		assert_noop!(DinfraProviders::set_offer(RuntimeOrigin::signed(2), 42, 1, 5), Error::<Test>::UnknownDeploymentType);
		assert_noop!(DinfraProviders::set_offer(RuntimeOrigin::signed(2), t, 1, 0), Error::<Test>::ZeroPrice);

		assert_ok!(DinfraProviders::set_offer(RuntimeOrigin::signed(2), t, 3, 5));
		assert_eq!(
			last_event(),
			RuntimeEvent::DinfraProviders(Event::OfferSet { provider: 2, type_id: t, capacity: 3, price_per_block: 5 })
		);
		assert_eq!(OfferedBy::<Test>::get(t).to_vec(), vec![2]);
		assert_eq!(Providers::<Test>::get(2).unwrap().offer_count, 1);

		// An update keeps the count of capacity in use and does not list the provider twice.
		assert_eq!(assign(t, 3, AssignmentStrategy::RoundRobin), Ok(2));
		assert_ok!(DinfraProviders::set_offer(RuntimeOrigin::signed(2), t, 1, 9));
		let offer = Offers::<Test>::get(2, t).unwrap();
		assert_eq!((offer.capacity, offer.in_use, offer.price_per_block), (1, 1, 9));
		assert_eq!(OfferedBy::<Test>::get(t).to_vec(), vec![2]);
		assert_eq!(Providers::<Test>::get(2).unwrap().offer_count, 1);
	});
}

#[test]
fn offers_are_bounded_per_provider_and_per_type() {
	new_test_ext().execute_with(|| {
		let types: Vec<u32> = (0..4).map(|i| register_type(1, &[b'a' + i as u8])).collect();
		register_provider(2);
		for t in &types[..3] {
			assert_ok!(DinfraProviders::set_offer(RuntimeOrigin::signed(2), *t, 1, 5));
		}
		assert_noop!(DinfraProviders::set_offer(RuntimeOrigin::signed(2), types[3], 1, 5), Error::<Test>::TooManyOffers);

		for who in 3..=6 {
			register_provider(who);
			let result = DinfraProviders::set_offer(RuntimeOrigin::signed(who), types[0], 1, 5);
			if who < 6 {
				assert_ok!(result);
			} else {
				assert_noop!(result, Error::<Test>::TooManyProvidersForType);
			}
		}
	});
}

#[test]
fn remove_offer_refused_while_in_use() {
	new_test_ext().execute_with(|| {
		let t = register_type(1, b"vm");
		register_provider(2);
		assert_noop!(DinfraProviders::remove_offer(RuntimeOrigin::signed(2), t), Error::<Test>::NoSuchOffer);
		assert_ok!(DinfraProviders::set_offer(RuntimeOrigin::signed(2), t, 1, 5));
		assert_eq!(assign(t, 3, AssignmentStrategy::RoundRobin), Ok(2));
		assert_noop!(DinfraProviders::remove_offer(RuntimeOrigin::signed(2), t), Error::<Test>::OfferHasLiveDeployments);
		DinfraProviders::release(&2, t);
		assert_ok!(DinfraProviders::remove_offer(RuntimeOrigin::signed(2), t));
		assert_eq!(last_event(), RuntimeEvent::DinfraProviders(Event::OfferRemoved { provider: 2, type_id: t }));
		assert!(OfferedBy::<Test>::get(t).is_empty());
		assert_eq!(Providers::<Test>::get(2).unwrap().offer_count, 0);
		assert_noop!(DinfraProviders::remove_offer(RuntimeOrigin::signed(9), t), Error::<Test>::NotAProvider);
	});
}

// ---- consumer policy ----

#[test]
fn allow_list_is_bounded_and_exact() {
	new_test_ext().execute_with(|| {
		assert_noop!(DinfraProviders::allow_consumer(RuntimeOrigin::signed(2), 3), Error::<Test>::NotAProvider);
		register_provider(2);
		assert_ok!(DinfraProviders::allow_consumer(RuntimeOrigin::signed(2), 3));
		assert_eq!(last_event(), RuntimeEvent::DinfraProviders(Event::ConsumerAllowed { provider: 2, consumer: 3 }));
		assert_noop!(DinfraProviders::allow_consumer(RuntimeOrigin::signed(2), 3), Error::<Test>::AlreadyAllowed);
		assert_ok!(DinfraProviders::allow_consumer(RuntimeOrigin::signed(2), 4));
		assert_noop!(DinfraProviders::allow_consumer(RuntimeOrigin::signed(2), 5), Error::<Test>::AllowListFull);
		assert_ok!(DinfraProviders::disallow_consumer(RuntimeOrigin::signed(2), 3));
		assert_eq!(last_event(), RuntimeEvent::DinfraProviders(Event::ConsumerDisallowed { provider: 2, consumer: 3 }));
		assert_noop!(DinfraProviders::disallow_consumer(RuntimeOrigin::signed(2), 3), Error::<Test>::NotOnAllowList);
		assert_ok!(DinfraProviders::allow_consumer(RuntimeOrigin::signed(2), 5));
		assert_eq!(Providers::<Test>::get(2).unwrap().allow_list_len, 2);
	});
}

#[test]
fn allow_list_policy_gates_assignment() {
	new_test_ext().execute_with(|| {
		let t = register_type(1, b"vm");
		register_provider(2);
		assert_ok!(DinfraProviders::set_offer(RuntimeOrigin::signed(2), t, 5, 5));
		assert_ok!(DinfraProviders::set_consumer_policy(RuntimeOrigin::signed(2), ConsumerPolicy::AllowListOnly));
		assert_eq!(
			last_event(),
			RuntimeEvent::DinfraProviders(Event::ConsumerPolicyChanged { provider: 2, policy: ConsumerPolicy::AllowListOnly })
		);
		assert_eq!(assign(t, 3, AssignmentStrategy::RoundRobin), Err(Error::<Test>::NoEligibleProvider.into()));
		assert_noop!(
			DinfraProviders::assign(t, &3, AssignmentStrategy::RoundRobin, Some(&2)).map(|_| ()),
			Error::<Test>::ConsumerNotAllowed
		);
		assert_ok!(DinfraProviders::allow_consumer(RuntimeOrigin::signed(2), 3));
		assert_eq!(assign(t, 3, AssignmentStrategy::RoundRobin), Ok(2));
		assert_eq!(assign(t, 4, AssignmentStrategy::RoundRobin), Err(Error::<Test>::NoEligibleProvider.into()));
		assert_ok!(DinfraProviders::set_consumer_policy(RuntimeOrigin::signed(2), ConsumerPolicy::AcceptAll));
		assert_eq!(assign(t, 4, AssignmentStrategy::RoundRobin), Ok(2));
	});
}

// ---- assignment ----

/// Type 0 offered by providers 2, 3, 4 (in that order) with the given capacities.
fn three_providers(capacities: [u32; 3]) -> u32 {
	let t = register_type(1, b"vm");
	for (who, capacity) in (2..=4).zip(capacities) {
		register_provider(who);
		assert_ok!(DinfraProviders::set_offer(RuntimeOrigin::signed(who), t, capacity, 10 + who));
	}
	t
}

#[test]
fn round_robin_rotates_and_skips_ineligible() {
	new_test_ext().execute_with(|| {
		let t = three_providers([5, 5, 5]);
		let picks: Vec<_> = (0..4).map(|_| assign(t, 9, AssignmentStrategy::RoundRobin).unwrap()).collect();
		assert_eq!(picks, vec![2, 3, 4, 2]);
		assert_ok!(DinfraProviders::set_provider_status(RuntimeOrigin::signed(3), ProviderStatus::Paused));
		assert_eq!(assign(t, 9, AssignmentStrategy::RoundRobin), Ok(4));
		assert_eq!(assign(t, 9, AssignmentStrategy::RoundRobin), Ok(2));
	});
}

#[test]
fn random_strategy_starts_from_the_random_index() {
	new_test_ext().execute_with(|| {
		let t = three_providers([5, 5, 5]);
		for (seed, expected) in [(0u64, 2), (1, 3), (2, 4), (3, 2), (u64::MAX, 2)] {
			RANDOM_SEED.with(|s| s.set(seed));
			assert_eq!(assign(t, 9, AssignmentStrategy::Random), Ok(expected), "seed {seed}");
		}
		RANDOM_SEED.with(|s| s.set(0));
		assert_eq!(assign(t, 9, AssignmentStrategy::Random), Ok(2));
		assert_ok!(DinfraProviders::set_provider_status(RuntimeOrigin::signed(2), ProviderStatus::Paused));
		assert_eq!(assign(t, 9, AssignmentStrategy::Random), Ok(3));
	});
}

#[test]
fn capacity_based_picks_most_free_capacity_first_on_ties() {
	new_test_ext().execute_with(|| {
		let t = three_providers([2, 4, 4]);
		assert_eq!(assign(t, 9, AssignmentStrategy::CapacityBased), Ok(3));
		assert_eq!(assign(t, 9, AssignmentStrategy::CapacityBased), Ok(4));
		assert_eq!(assign(t, 9, AssignmentStrategy::CapacityBased), Ok(3));
		assert_eq!((in_use(2, t), in_use(3, t), in_use(4, t)), (0, 2, 1));
	});
}

#[test]
fn assignment_counts_capacity_and_release_gives_it_back() {
	new_test_ext().execute_with(|| {
		let t = three_providers([1, 0, 0]);
		let a = DinfraProviders::assign(t, &9, AssignmentStrategy::RoundRobin, None).unwrap();
		assert_eq!((a.provider, a.price_per_block), (2, 12));
		assert_eq!(in_use(2, t), 1);
		assert_eq!(Providers::<Test>::get(2).unwrap().live_deployments, 1);
		assert_eq!(assign(t, 9, AssignmentStrategy::CapacityBased), Err(Error::<Test>::NoEligibleProvider.into()));
		DinfraProviders::release(&2, t);
		assert_eq!(in_use(2, t), 0);
		assert_eq!(Providers::<Test>::get(2).unwrap().live_deployments, 0);
		assert_eq!(assign(t, 9, AssignmentStrategy::Random), Ok(2));
	});
}

#[test]
fn named_provider_errors_say_why() {
	new_test_ext().execute_with(|| {
		let t = three_providers([1, 0, 5]);
		let named = |p: AccountId| DinfraProviders::assign(t, &9, AssignmentStrategy::RoundRobin, Some(&p)).map(|a| a.provider);
		assert_eq!(named(7), Err(Error::<Test>::NotAProvider.into()));
		assert_eq!(named(3), Err(Error::<Test>::NoFreeCapacity.into()));
		assert_ok!(DinfraProviders::set_provider_status(RuntimeOrigin::signed(4), ProviderStatus::Paused));
		assert_eq!(named(4), Err(Error::<Test>::ProviderPaused.into()));
		register_provider(5);
		assert_eq!(named(5), Err(Error::<Test>::NoSuchOffer.into()));
		assert_eq!(named(2), Ok(2));
		assert_eq!(
			DinfraProviders::assign(99, &9, AssignmentStrategy::RoundRobin, None).map(|_| ()),
			Err(Error::<Test>::UnknownDeploymentType.into())
		);
	});
}

#[test]
fn no_offers_means_no_eligible_provider() {
	new_test_ext().execute_with(|| {
		let t = register_type(1, b"vm");
		for s in [AssignmentStrategy::RoundRobin, AssignmentStrategy::Random, AssignmentStrategy::CapacityBased] {
			assert_eq!(assign(t, 9, s), Err(Error::<Test>::NoEligibleProvider.into()));
		}
	});
}

#[test]
fn genesis_registers_deployment_types_with_deposit() {
	let mut storage = polkadot_sdk::frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	polkadot_sdk::pallet_balances::GenesisConfig::<Test> { balances: vec![(1, 1_000)], ..Default::default() }
		.assimilate_storage(&mut storage)
		.unwrap();
	crate::GenesisConfig::<Test> { deployment_types: vec![(1, b"cloudstack-vm".to_vec(), CID.to_vec())] }
		.assimilate_storage(&mut storage)
		.unwrap();
	polkadot_sdk::sp_io::TestExternalities::new(storage).execute_with(|| {
		assert_eq!(DeploymentTypes::<Test>::get(0).unwrap().name.to_vec(), b"cloudstack-vm".to_vec());
		assert_eq!(NextDeploymentTypeId::<Test>::get(), 1);
		assert_eq!(held(1, HoldReason::DeploymentTypeDeposit), TYPE_DEPOSIT);
	});
}
