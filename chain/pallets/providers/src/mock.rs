//! A minimal runtime for the providers pallet's unit tests: system, balances, providers.

use crate as pallet_dinfra_providers;
use core::cell::Cell;
use polkadot_sdk::{
	frame_support::{derive_impl, parameter_types, traits::Randomness},
	frame_system, pallet_balances,
	sp_core::H256,
	sp_io,
	sp_runtime::BuildStorage,
};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		DinfraProviders: pallet_dinfra_providers,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

thread_local! {
	/// The value the test randomness returns; tests set it to steer the `Random` strategy.
	pub static RANDOM_SEED: Cell<u64> = const { Cell::new(0) };
}

pub struct TestRandomness;
impl Randomness<H256, u64> for TestRandomness {
	fn random(_subject: &[u8]) -> (H256, u64) {
		// The pallet reads the first 8 bytes as a big-endian start index.
		let mut out = H256::zero();
		out.0[..8].copy_from_slice(&RANDOM_SEED.with(|s| s.get()).to_be_bytes());
		(out, 0)
	}
}

pub const TYPE_DEPOSIT: Balance = 100;
pub const PROVIDER_DEPOSIT: Balance = 1_000;

parameter_types! {
	pub const DeploymentTypeDeposit: Balance = TYPE_DEPOSIT;
	pub const ProviderDeposit: Balance = PROVIDER_DEPOSIT;
	pub const MaxNameLen: u32 = 32;
	pub const MaxCidLen: u32 = 64;
	pub const MaxProvidersPerType: u32 = 4;
	pub const MaxOffersPerProvider: u32 = 3;
	pub const MaxAllowListLen: u32 = 2;
}

impl pallet_dinfra_providers::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Randomness = TestRandomness;
	type DeploymentTypeDeposit = DeploymentTypeDeposit;
	type ProviderDeposit = ProviderDeposit;
	type MaxNameLen = MaxNameLen;
	type MaxCidLen = MaxCidLen;
	type MaxProvidersPerType = MaxProvidersPerType;
	type MaxOffersPerProvider = MaxOffersPerProvider;
	type MaxAllowListLen = MaxAllowListLen;
	type WeightInfo = ();
}

/// Accounts 1..=9 hold 10_000 each; account 99 holds nothing.
pub const INITIAL_BALANCE: Balance = 10_000;
pub const POOR: AccountId = 99;

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: (1..=9).map(|who| (who, INITIAL_BALANCE)).collect(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		RANDOM_SEED.with(|s| s.set(0));
	});
	ext
}
