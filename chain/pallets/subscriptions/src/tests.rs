//! Unit tests of the subscriptions pallet: every call and transition, exact billing,
//! expiry, timeouts, purging, and per-block work that does not grow with the number of
//! deployments.

use crate::{mock::*, pallet::*, DeploymentState, Event, FailureReason, HoldReason, TerminationReason, WeightInfo};
use codec::Encode;
use dinfra_primitives::AssignmentStrategy;
use pallet_dinfra_providers::{Error as ProvidersError, Offers};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold},
	sp_runtime::TokenError,
};

const CID: &[u8] = b"bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::DinfraSubscriptions(HoldReason::DeploymentDeposit), &who)
}

fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::DinfraSubscriptions(e) = r.event { Some(e) } else { None })
		.collect()
}

fn state(id: u64) -> DeploymentState<Test> {
	Deployments::<Test>::get(id).expect("deployment exists").state
}

fn in_use(provider: AccountId) -> u32 {
	Offers::<Test>::get(provider, TYPE).unwrap().in_use
}

/// CONSUMER subscribes with provider A named; returns the id.
fn subscribe_a(deposit: Balance) -> u64 {
	let id = NextDeploymentId::<Test>::get();
	assert_ok!(DinfraSubscriptions::subscribe(
		RuntimeOrigin::signed(CONSUMER),
		TYPE,
		CID.to_vec(),
		deposit,
		AssignmentStrategy::RoundRobin,
		Some(PROVIDER_A)
	));
	id
}

fn deploy(id: u64) {
	assert_ok!(DinfraSubscriptions::report_deployed(RuntimeOrigin::signed(PROVIDER_A), id, b"203.0.113.7 ssh:22".to_vec()));
}

// ---- subscribe ----

#[test]
fn subscribe_awards_holds_and_indexes() {
	new_test_ext().execute_with(|| {
		let id = subscribe_a(700);
		assert_eq!(id, 0);
		assert_eq!(
			events().last().unwrap(),
			&Event::DeploymentAwarded {
				id: 0,
				consumer: CONSUMER,
				provider: PROVIDER_A,
				type_id: TYPE,
				descriptor_cid: CID.to_vec().try_into().unwrap()
			}
		);
		let d = Deployments::<Test>::get(0).unwrap();
		assert_eq!((d.price_per_block, d.deposit, d.paid, d.awarded_at), (PRICE_A, 700, 0, 1));
		assert_eq!(d.state, DeploymentState::Awarded);
		assert_eq!(d.deadline, 1 + AwardTimeout::get());
		assert_eq!(Deadlines::<Test>::get(d.deadline).to_vec(), vec![0]);
		assert_eq!(held(CONSUMER), 700);
		assert_eq!(Balances::free_balance(CONSUMER), INITIAL_BALANCE - 700);
		assert_eq!(in_use(PROVIDER_A), 1);
		assert!(ProviderDeployments::<Test>::contains_key(PROVIDER_A, 0));
		assert!(ConsumerDeployments::<Test>::contains_key(CONSUMER, 0));
		assert_eq!(subscribe_a(700), 1);
	});
}

#[test]
fn subscribe_by_strategy_picks_providers() {
	new_test_ext().execute_with(|| {
		for (i, expected) in [PROVIDER_A, PROVIDER_B, PROVIDER_A].into_iter().enumerate() {
			assert_ok!(DinfraSubscriptions::subscribe(
				RuntimeOrigin::signed(CONSUMER),
				TYPE,
				CID.to_vec(),
				100,
				AssignmentStrategy::RoundRobin,
				None
			));
			assert_eq!(Deployments::<Test>::get(i as u64).unwrap().provider, expected);
		}
		// A has 1 free, B has 1 free: capacity-based ties go to the first offered (A).
		assert_ok!(DinfraSubscriptions::subscribe(
			RuntimeOrigin::signed(CONSUMER),
			TYPE,
			CID.to_vec(),
			100,
			AssignmentStrategy::CapacityBased,
			None
		));
		assert_eq!(Deployments::<Test>::get(3).unwrap().provider, PROVIDER_B);
	});
}

#[test]
fn subscribe_errors_move_no_funds() {
	new_test_ext().execute_with(|| {
		let sub = |type_id, cid: &[u8], deposit, provider| {
			DinfraSubscriptions::subscribe(
				RuntimeOrigin::signed(CONSUMER),
				type_id,
				cid.to_vec(),
				deposit,
				AssignmentStrategy::RoundRobin,
				provider,
			)
		};
		assert_noop!(sub(TYPE, &[b'a'; 65], 100, None), Error::<Test>::CidTooLong);
		assert_noop!(sub(TYPE, b"", 100, None), Error::<Test>::InvalidCid);
		assert_noop!(sub(TYPE, b"not a cid", 100, None), Error::<Test>::InvalidCid);
		assert_noop!(sub(TYPE, CID, 0, None), Error::<Test>::ZeroAmount);
		assert_noop!(sub(7, CID, 100, None), ProvidersError::<Test>::UnknownDeploymentType);
		assert_noop!(sub(TYPE, CID, PRICE_A - 1, Some(PROVIDER_A)), Error::<Test>::DepositBelowPrice);
		assert_noop!(sub(TYPE, CID, 100, Some(OTHER)), ProvidersError::<Test>::NotAProvider);
		assert_noop!(sub(TYPE, CID, INITIAL_BALANCE * 2, None), TokenError::FundsUnavailable);

		for _ in 0..4 {
			assert_ok!(sub(TYPE, CID, 100, None));
		}
		let free = Balances::free_balance(CONSUMER);
		assert_noop!(sub(TYPE, CID, 100, None), ProvidersError::<Test>::NoEligibleProvider);
		assert_eq!(Balances::free_balance(CONSUMER), free);
		assert_eq!((in_use(PROVIDER_A), in_use(PROVIDER_B)), (2, 2));
	});
}

#[test]
fn ids_are_never_reused_and_never_overflow() {
	new_test_ext().execute_with(|| {
		let id = subscribe_a(100);
		assert_ok!(DinfraSubscriptions::report_failed(RuntimeOrigin::signed(PROVIDER_A), id, b"no".to_vec()));
		run_to_block(1 + FinishedRetention::get());
		assert!(Deployments::<Test>::get(id).is_none());
		assert_eq!(subscribe_a(100), id + 1);

		NextDeploymentId::<Test>::put(u64::MAX);
		assert_noop!(
			DinfraSubscriptions::subscribe(
				RuntimeOrigin::signed(CONSUMER),
				TYPE,
				CID.to_vec(),
				100,
				AssignmentStrategy::RoundRobin,
				None
			),
			Error::<Test>::DeploymentIdsExhausted
		);
	});
}

// ---- provider reports ----

#[test]
fn only_the_assigned_provider_reports() {
	new_test_ext().execute_with(|| {
		let id = subscribe_a(100);
		assert_noop!(
			DinfraSubscriptions::report_deployed(RuntimeOrigin::signed(PROVIDER_B), id, vec![]),
			Error::<Test>::NotTheProvider
		);
		assert_noop!(
			DinfraSubscriptions::report_failed(RuntimeOrigin::signed(CONSUMER), id, vec![]),
			Error::<Test>::NotTheProvider
		);
		assert_noop!(DinfraSubscriptions::report_terminated(RuntimeOrigin::signed(PROVIDER_B), id), Error::<Test>::NotTheProvider);
		assert_noop!(
			DinfraSubscriptions::report_deployed(RuntimeOrigin::signed(PROVIDER_A), 99, vec![]),
			Error::<Test>::UnknownDeployment
		);
	});
}

#[test]
fn report_deployed_starts_billing_and_updates_access_info() {
	new_test_ext().execute_with(|| {
		let id = subscribe_a(100);
		run_to_block(3);
		assert_noop!(
			DinfraSubscriptions::report_deployed(RuntimeOrigin::signed(PROVIDER_A), id, vec![b'x'; 33]),
			Error::<Test>::AccessInfoTooLong
		);
		assert_noop!(
			DinfraSubscriptions::report_deployed(RuntimeOrigin::signed(PROVIDER_A), id, vec![0xc3, 0x28]),
			Error::<Test>::InvalidText
		);
		deploy(id);
		let d = Deployments::<Test>::get(id).unwrap();
		// 100 / 7 = 14 whole blocks from block 3.
		assert_eq!((d.state, d.settled_until, d.deadline), (DeploymentState::Running, 3, 17));
		assert_eq!(
			events().last().unwrap(),
			&Event::DeploymentRunning { id, access_info: b"203.0.113.7 ssh:22".to_vec().try_into().unwrap(), runs_out_at: 17 }
		);
		assert!(Deadlines::<Test>::get(1 + AwardTimeout::get()).is_empty(), "award deadline removed");
		assert_eq!(Deadlines::<Test>::get(17).to_vec(), vec![id]);

		assert_ok!(DinfraSubscriptions::report_deployed(RuntimeOrigin::signed(PROVIDER_A), id, b"198.51.100.1".to_vec()));
		assert_eq!(Deployments::<Test>::get(id).unwrap().access_info.to_vec(), b"198.51.100.1".to_vec());
		assert_eq!(Deployments::<Test>::get(id).unwrap().deadline, 17, "an update does not move billing");
		assert!(matches!(events().last().unwrap(), Event::DeploymentAccessInfoUpdated { .. }));
	});
}

#[test]
fn report_failed_refunds_and_releases_capacity() {
	new_test_ext().execute_with(|| {
		let id = subscribe_a(100);
		assert_noop!(
			DinfraSubscriptions::report_failed(RuntimeOrigin::signed(PROVIDER_A), id, vec![b'r'; 33]),
			Error::<Test>::ReasonTooLong
		);
		assert_ok!(DinfraSubscriptions::report_failed(RuntimeOrigin::signed(PROVIDER_A), id, b"no such template".to_vec()));
		let reason = FailureReason::Provider(b"no such template".to_vec().try_into().unwrap());
		assert_eq!(state(id), DeploymentState::Failed { reason: reason.clone() });
		assert_eq!(events().last().unwrap(), &Event::DeploymentFailed { id, reason, refunded: 100 });
		assert_eq!((held(CONSUMER), Balances::free_balance(CONSUMER)), (0, INITIAL_BALANCE));
		assert_eq!(in_use(PROVIDER_A), 0);
		assert_noop!(
			DinfraSubscriptions::report_deployed(RuntimeOrigin::signed(PROVIDER_A), id, vec![]),
			Error::<Test>::DeploymentNotActive
		);
		assert_noop!(
			DinfraSubscriptions::report_failed(RuntimeOrigin::signed(PROVIDER_A), id, vec![]),
			Error::<Test>::DeploymentNotActive
		);
	});
}

#[test]
fn report_failed_on_running_pays_served_blocks_first() {
	new_test_ext().execute_with(|| {
		let id = subscribe_a(100);
		deploy(id);
		run_to_block(5);
		assert_ok!(DinfraSubscriptions::report_failed(RuntimeOrigin::signed(PROVIDER_A), id, b"disk died".to_vec()));
		let d = Deployments::<Test>::get(id).unwrap();
		assert_eq!((d.paid, d.deposit), (4 * PRICE_A, 0));
		assert_eq!(Balances::free_balance(CONSUMER), INITIAL_BALANCE - 4 * PRICE_A);
		assert_eq!(Balances::free_balance(PROVIDER_A), INITIAL_BALANCE - 1_000 + 4 * PRICE_A);
	});
}

#[test]
fn report_terminated_only_from_terminating() {
	new_test_ext().execute_with(|| {
		let id = subscribe_a(100);
		assert_noop!(
			DinfraSubscriptions::report_terminated(RuntimeOrigin::signed(PROVIDER_A), id),
			Error::<Test>::DeploymentNotTerminating
		);
		deploy(id);
		assert_noop!(
			DinfraSubscriptions::report_terminated(RuntimeOrigin::signed(PROVIDER_A), id),
			Error::<Test>::DeploymentNotTerminating
		);
		assert_ok!(DinfraSubscriptions::cancel(RuntimeOrigin::signed(CONSUMER), id));
		assert_ok!(DinfraSubscriptions::report_terminated(RuntimeOrigin::signed(PROVIDER_A), id));
		assert_eq!(state(id), DeploymentState::Terminated { reason: TerminationReason::Cancelled, confirmed: true });
		assert_noop!(
			DinfraSubscriptions::report_terminated(RuntimeOrigin::signed(PROVIDER_A), id),
			Error::<Test>::DeploymentNotTerminating
		);
	});
}

// ---- billing ----

#[test]
fn lifecycle_pays_exactly_price_times_blocks_and_refunds_the_rest() {
	new_test_ext().execute_with(|| {
		let id = subscribe_a(100);
		run_to_block(2);
		deploy(id); // running from block 2; 100 / 7 = 14 blocks: runs out at 16.
		assert_eq!(Deployments::<Test>::get(id).unwrap().deadline, 16);

		run_to_block(15);
		assert_eq!(state(id), DeploymentState::Running);
		run_to_block(16);
		assert_eq!(state(id), DeploymentState::Terminating { reason: TerminationReason::Exhausted });
		let d = Deployments::<Test>::get(id).unwrap();
		assert_eq!((d.paid, d.deposit), (14 * PRICE_A, 100 - 14 * PRICE_A));
		assert!(events().contains(&Event::DeploymentTerminating { id, reason: TerminationReason::Exhausted }));

		// No billing while terminating.
		run_to_block(20);
		assert_eq!(Deployments::<Test>::get(id).unwrap().paid, 14 * PRICE_A);
		assert_ok!(DinfraSubscriptions::report_terminated(RuntimeOrigin::signed(PROVIDER_A), id));
		assert_eq!(
			events().last().unwrap(),
			&Event::DeploymentTerminated { id, reason: TerminationReason::Exhausted, confirmed: true, refunded: 2 }
		);
		assert_eq!(held(CONSUMER), 0);
		assert_eq!(Balances::free_balance(CONSUMER), INITIAL_BALANCE - 14 * PRICE_A);
		assert_eq!(Balances::free_balance(PROVIDER_A), INITIAL_BALANCE - 1_000 + 14 * PRICE_A);
		assert_eq!(in_use(PROVIDER_A), 0);
		assert_eq!(pallet_dinfra_providers::Providers::<Test>::get(PROVIDER_A).unwrap().live_deployments, 0);
	});
}

#[test]
fn settle_can_be_called_by_anyone_and_pays_exactly() {
	new_test_ext().execute_with(|| {
		let id = subscribe_a(100);
		assert_noop!(DinfraSubscriptions::settle(RuntimeOrigin::signed(OTHER), id), Error::<Test>::DeploymentNotRunning);
		deploy(id);
		run_to_block(4);
		assert_ok!(DinfraSubscriptions::settle(RuntimeOrigin::signed(OTHER), id));
		assert_eq!(
			events().last().unwrap(),
			&Event::DeploymentSettled { id, amount: 3 * PRICE_A, remaining_deposit: 100 - 3 * PRICE_A }
		);
		// Settling again in the same block pays nothing more.
		assert_ok!(DinfraSubscriptions::settle(RuntimeOrigin::signed(OTHER), id));
		assert_eq!(Deployments::<Test>::get(id).unwrap().paid, 3 * PRICE_A);
		assert_eq!(held(CONSUMER), 100 - 3 * PRICE_A);
		assert_noop!(DinfraSubscriptions::settle(RuntimeOrigin::signed(OTHER), 9), Error::<Test>::UnknownDeployment);
	});
}

#[test]
fn top_up_moves_the_expiry_to_the_exact_block() {
	new_test_ext().execute_with(|| {
		let id = subscribe_a(70); // 10 blocks at 7
		deploy(id); // from block 1: runs out at 11
		run_to_block(5);
		assert_noop!(DinfraSubscriptions::top_up(RuntimeOrigin::signed(OTHER), id, 7), Error::<Test>::NotTheConsumer);
		assert_noop!(DinfraSubscriptions::top_up(RuntimeOrigin::signed(CONSUMER), id, 0), Error::<Test>::ZeroAmount);
		assert_ok!(DinfraSubscriptions::top_up(RuntimeOrigin::signed(CONSUMER), id, 35));
		// Settled 4 blocks (28); 42 + 35 = 77 left = 11 blocks from block 5: block 16.
		let d = Deployments::<Test>::get(id).unwrap();
		assert_eq!((d.paid, d.deposit, d.deadline), (28, 77, 16));
		assert!(Deadlines::<Test>::get(11).is_empty());
		assert_eq!(Deadlines::<Test>::get(16).to_vec(), vec![id]);
		assert!(events().contains(&Event::DeploymentRunsOutAt { id, block: 16 }));

		run_to_block(15);
		assert_eq!(state(id), DeploymentState::Running);
		run_to_block(16);
		assert_eq!(state(id), DeploymentState::Terminating { reason: TerminationReason::Exhausted });
		assert_eq!(Deployments::<Test>::get(id).unwrap().paid, 15 * PRICE_A);
	});
}

#[test]
fn top_up_while_awarded_adds_to_the_deposit() {
	new_test_ext().execute_with(|| {
		let id = subscribe_a(70);
		assert_ok!(DinfraSubscriptions::top_up(RuntimeOrigin::signed(CONSUMER), id, 70));
		assert_eq!(held(CONSUMER), 140);
		deploy(id);
		assert_eq!(Deployments::<Test>::get(id).unwrap().deadline, 21);
	});
}

// ---- cancel ----

#[test]
fn cancel_before_deploy_costs_nothing() {
	new_test_ext().execute_with(|| {
		let id = subscribe_a(100);
		assert_noop!(DinfraSubscriptions::cancel(RuntimeOrigin::signed(OTHER), id), Error::<Test>::NotTheConsumer);
		assert_ok!(DinfraSubscriptions::cancel(RuntimeOrigin::signed(CONSUMER), id));
		assert_eq!(state(id), DeploymentState::Terminating { reason: TerminationReason::Cancelled });
		assert_noop!(DinfraSubscriptions::cancel(RuntimeOrigin::signed(CONSUMER), id), Error::<Test>::DeploymentNotActive);
		assert_noop!(DinfraSubscriptions::top_up(RuntimeOrigin::signed(CONSUMER), id, 1), Error::<Test>::DeploymentNotActive);
		assert_ok!(DinfraSubscriptions::report_terminated(RuntimeOrigin::signed(PROVIDER_A), id));
		assert_eq!(Balances::free_balance(CONSUMER), INITIAL_BALANCE);
	});
}

#[test]
fn cancel_while_running_settles_up_to_now() {
	new_test_ext().execute_with(|| {
		let id = subscribe_a(100);
		deploy(id);
		run_to_block(4);
		assert_ok!(DinfraSubscriptions::cancel(RuntimeOrigin::signed(CONSUMER), id));
		assert_eq!(Deployments::<Test>::get(id).unwrap().paid, 3 * PRICE_A);
		run_to_block(10);
		assert_ok!(DinfraSubscriptions::report_terminated(RuntimeOrigin::signed(PROVIDER_A), id));
		assert_eq!(Balances::free_balance(CONSUMER), INITIAL_BALANCE - 3 * PRICE_A);
	});
}

// ---- timeouts and retention ----

#[test]
fn award_timeout_fails_and_refunds() {
	new_test_ext().execute_with(|| {
		let id = subscribe_a(100);
		run_to_block(AwardTimeout::get());
		assert_eq!(state(id), DeploymentState::Awarded);
		run_to_block(1 + AwardTimeout::get());
		assert_eq!(state(id), DeploymentState::Failed { reason: FailureReason::Timeout });
		assert_eq!(
			events().last().unwrap(),
			&Event::DeploymentFailed { id, reason: FailureReason::Timeout, refunded: 100 }
		);
		assert_eq!((held(CONSUMER), in_use(PROVIDER_A)), (0, 0));
		assert_noop!(
			DinfraSubscriptions::report_deployed(RuntimeOrigin::signed(PROVIDER_A), id, vec![]),
			Error::<Test>::DeploymentNotActive
		);
	});
}

#[test]
fn teardown_timeout_settles_without_the_provider() {
	new_test_ext().execute_with(|| {
		let id = subscribe_a(100);
		assert_ok!(DinfraSubscriptions::cancel(RuntimeOrigin::signed(CONSUMER), id));
		run_to_block(1 + TeardownTimeout::get());
		assert_eq!(state(id), DeploymentState::Terminated { reason: TerminationReason::Cancelled, confirmed: false });
		assert_eq!((held(CONSUMER), in_use(PROVIDER_A)), (0, 0));
	});
}

#[test]
fn finished_deployments_are_purged_after_retention() {
	new_test_ext().execute_with(|| {
		let id = subscribe_a(100);
		run_to_block(3);
		assert_ok!(DinfraSubscriptions::report_failed(RuntimeOrigin::signed(PROVIDER_A), id, b"x".to_vec()));
		run_to_block(3 + FinishedRetention::get() - 1);
		assert!(Deployments::<Test>::get(id).is_some());
		run_to_block(3 + FinishedRetention::get());
		assert!(Deployments::<Test>::get(id).is_none());
		assert!(!ProviderDeployments::<Test>::contains_key(PROVIDER_A, id));
		assert!(!ConsumerDeployments::<Test>::contains_key(CONSUMER, id));
		assert_eq!(events().last().unwrap(), &Event::DeploymentPurged { id });
		assert_eq!(Deadlines::<Test>::iter().count(), 0, "nothing left in the index");
	});
}

// ---- the deadline index ----

#[test]
fn full_deadline_buckets_spill_to_later_blocks_then_refuse() {
	new_test_ext().execute_with(|| {
		// Bucket size 4, search 2 more blocks: 12 slots from block 11 on. Fill them with
		// ids that do not exist (they are skipped when the hook reaches them).
		assert_ok!(DinfraProviders::set_offer(RuntimeOrigin::signed(PROVIDER_A), TYPE, 10, PRICE_A));
		let at = 1 + AwardTimeout::get();
		for b in at..at + 3 {
			Deadlines::<Test>::insert(b, polkadot_sdk::frame_support::BoundedVec::truncate_from(vec![900, 901, 902]));
		}
		let ids: Vec<u64> = (0..3).map(|_| subscribe_a(100)).collect();
		let deadlines: Vec<u64> = ids.iter().map(|id| Deployments::<Test>::get(id).unwrap().deadline).collect();
		assert_eq!(deadlines, vec![at, at + 1, at + 2]);
		assert_noop!(
			DinfraSubscriptions::subscribe(
				RuntimeOrigin::signed(CONSUMER),
				TYPE,
				CID.to_vec(),
				100,
				AssignmentStrategy::RoundRobin,
				Some(PROVIDER_B)
			),
			Error::<Test>::DeadlineQueueFull
		);
		run_to_block(at + 2);
		for id in ids {
			assert_eq!(state(id), DeploymentState::Failed { reason: FailureReason::Timeout });
		}
	});
}

/// Deployment 0 is due (award timeout) at block 11; `extra` more deployments (at most 27,
/// the room in the mock's deadline buckets) are due at blocks 12..=20. Returns what the hook at block 11 reports as its weight, the size of the
/// storage proof of what it read, and how many deployments it changed.
fn hook_at_due_block(extra: u32) -> (polkadot_sdk::frame_support::weights::Weight, usize, usize) {
	let due_block = 1 + AwardTimeout::get();
	let setup = || {
		let mut ext = new_test_ext();
		ext.execute_with(|| {
			for who in [PROVIDER_A, PROVIDER_B] {
				pallet_dinfra_providers::Pallet::<Test>::set_offer(RuntimeOrigin::signed(who), TYPE, 100, 1).unwrap();
			}
			subscribe_a(100);
			for i in 0..extra {
				System::set_block_number(2 + (i as u64 % 9));
				subscribe_a(100);
			}
			// As block initialisation does: otherwise appending the hook's events reads
			// every earlier event into the proof.
			System::reset_events();
			System::set_block_number(due_block);
		});
		ext.commit_all().unwrap();
		ext
	};
	let hook = || <DinfraSubscriptions as polkadot_sdk::frame_support::traits::Hooks<BlockNumber>>::on_initialize(due_block);

	let (weight, proof) = setup().execute_and_prove(hook);
	let changed = setup().execute_with(|| {
		let before: Vec<_> = Deployments::<Test>::iter().collect();
		hook();
		before.into_iter().filter(|(id, d)| Deployments::<Test>::get(id).unwrap().state != d.state).count()
	});
	(weight, proof.encoded_size(), changed)
}

#[test]
fn per_block_work_does_not_grow_with_the_number_of_deployments() {
	let (w1, proof1, changed1) = hook_at_due_block(0);
	let (w27, proof27, changed27) = hook_at_due_block(27);
	assert_eq!((changed1, changed27), (1, 1), "exactly the due deployment changes");
	assert_eq!(w1, w27);
	assert_eq!(w1, <() as WeightInfo>::expire_awarded(1));
	// Reading the 27 other deployments would add kilobytes to the proof; a deeper trie adds
	// only a few branch nodes.
	assert!(proof27 < proof1 + 2_048, "hook read {proof27} bytes with 27 other deployments vs {proof1} without");
}

#[test]
fn a_stale_index_entry_is_ignored() {
	new_test_ext().execute_with(|| {
		let id = subscribe_a(100);
		// Pretend an old entry for `id` lingers at block 5, where its deadline is not.
		Deadlines::<Test>::insert(5, polkadot_sdk::frame_support::BoundedVec::truncate_from(vec![id, 777]));
		run_to_block(5);
		assert_eq!(state(id), DeploymentState::Awarded);
	});
}

#[test]
fn extreme_values_saturate_instead_of_panicking() {
	new_test_ext().execute_with(|| {
		// A price so high that price × blocks overflows u64 after two blocks.
		let huge = u64::MAX / 2;
		assert_ok!(DinfraProviders::set_offer(RuntimeOrigin::signed(PROVIDER_B), TYPE, u32::MAX, huge));
		let rich = 5;
		Balances::force_set_balance(RuntimeOrigin::root(), rich, u64::MAX / 2 + 1_000).unwrap();
		assert_ok!(DinfraSubscriptions::subscribe(
			RuntimeOrigin::signed(rich),
			TYPE,
			CID.to_vec(),
			huge,
			AssignmentStrategy::CapacityBased,
			Some(PROVIDER_B)
		));
		let id = NextDeploymentId::<Test>::get() - 1;
		assert_ok!(DinfraSubscriptions::report_deployed(RuntimeOrigin::signed(PROVIDER_B), id, vec![]));
		assert_eq!(Deployments::<Test>::get(id).unwrap().deadline, 2, "one block affordable");
		System::set_block_number(1_000_000);
		// The deadline passed without the hook (as if blocks were skipped): settlement still
		// pays at most the deposit.
		assert_ok!(DinfraSubscriptions::settle(RuntimeOrigin::signed(OTHER), id));
		let d = Deployments::<Test>::get(id).unwrap();
		assert_eq!((d.paid, d.deposit), (huge, 0));

		// Top-ups of the largest amounts fail cleanly for lack of funds.
		assert_noop!(
			DinfraSubscriptions::top_up(RuntimeOrigin::signed(rich), id, u64::MAX),
			TokenError::FundsUnavailable
		);
		// Deadlines near the end of time saturate rather than wrap.
		System::set_block_number(u64::MAX - 1);
		assert_ok!(DinfraSubscriptions::cancel(RuntimeOrigin::signed(rich), id));
		assert_eq!(Deployments::<Test>::get(id).unwrap().deadline, u64::MAX);
	});
}
