//! A runtime for the subscriptions pallet's unit tests: system, balances, the real providers
//! pallet as the assigner, and subscriptions. Small bounds make every limit reachable.

use crate as pallet_dinfra_subscriptions;
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
pub type BlockNumber = u64;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		DinfraProviders: pallet_dinfra_providers,
		DinfraSubscriptions: pallet_dinfra_subscriptions,
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

/// Deterministic randomness: assignment tests do not depend on it.
pub struct ZeroRandomness;
impl Randomness<H256, BlockNumber> for ZeroRandomness {
	fn random(_subject: &[u8]) -> (H256, BlockNumber) {
		(H256::zero(), 0)
	}
}

parameter_types! {
	pub const DeploymentTypeDeposit: Balance = 100;
	pub const ProviderDeposit: Balance = 1_000;
	pub const MaxNameLen: u32 = 32;
	pub const MaxCidLen: u32 = 64;
	pub const MaxProvidersPerType: u32 = 4;
	pub const MaxOffersPerProvider: u32 = 4;
	pub const MaxAllowListLen: u32 = 4;

	pub const AwardTimeout: BlockNumber = 10;
	pub const TeardownTimeout: BlockNumber = 20;
	pub const FinishedRetention: BlockNumber = 30;
	pub const MaxAccessInfoLen: u32 = 32;
	pub const MaxReasonLen: u32 = 32;
	pub const MaxDeadlinesPerBlock: u32 = 4;
	pub const MaxDeadlineSearch: u32 = 2;
}

impl pallet_dinfra_providers::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Randomness = ZeroRandomness;
	type DeploymentTypeDeposit = DeploymentTypeDeposit;
	type ProviderDeposit = ProviderDeposit;
	type MaxNameLen = MaxNameLen;
	type MaxCidLen = MaxCidLen;
	type MaxProvidersPerType = MaxProvidersPerType;
	type MaxOffersPerProvider = MaxOffersPerProvider;
	type MaxAllowListLen = MaxAllowListLen;
	type WeightInfo = ();
}

impl pallet_dinfra_subscriptions::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Assigner = DinfraProviders;
	type AwardTimeout = AwardTimeout;
	type TeardownTimeout = TeardownTimeout;
	type FinishedRetention = FinishedRetention;
	type MaxCidLen = MaxCidLen;
	type MaxAccessInfoLen = MaxAccessInfoLen;
	type MaxReasonLen = MaxReasonLen;
	type MaxDeadlinesPerBlock = MaxDeadlinesPerBlock;
	type MaxDeadlineSearch = MaxDeadlineSearch;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = DinfraProviders;
}

pub const INITIAL_BALANCE: Balance = 1_000_000;
/// Providers registered and offering type 0 in [`new_test_ext`].
pub const PROVIDER_A: AccountId = 10;
pub const PROVIDER_B: AccountId = 11;
pub const CONSUMER: AccountId = 1;
pub const OTHER: AccountId = 2;
pub const TYPE: u32 = 0;
pub const PRICE_A: Balance = 7;
pub const PRICE_B: Balance = 11;

/// Accounts 1..=5 and 10..=13 hold `INITIAL_BALANCE`. Type 0 (`vm`) is registered; provider A
/// offers it with capacity 2 at `PRICE_A`, provider B with capacity 2 at `PRICE_B`.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: (1..=5).chain(10..=13).map(|who| (who, INITIAL_BALANCE)).collect(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_dinfra_providers::GenesisConfig::<Test> {
		deployment_types: vec![(13, b"vm".to_vec(), b"bafkreischema".to_vec())],
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		for (who, price) in [(PROVIDER_A, PRICE_A), (PROVIDER_B, PRICE_B)] {
			DinfraProviders::register_provider(RuntimeOrigin::signed(who), b"p".to_vec()).unwrap();
			DinfraProviders::set_offer(RuntimeOrigin::signed(who), TYPE, 2, price).unwrap();
		}
	});
	ext
}

/// Runs the hooks of every block up to and including `n`.
pub fn run_to_block(n: BlockNumber) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		<DinfraSubscriptions as polkadot_sdk::frame_support::traits::Hooks<BlockNumber>>::on_initialize(next);
	}
}
