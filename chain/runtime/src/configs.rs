//! Configuration of every pallet in the runtime.

use crate::*;
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::{ConstU128, ConstU32, ConstU64, ConstU8, Randomness, VariantCountOf},
		dispatch::DispatchClass,
		weights::{constants::RocksDbWeight, IdentityFee},
	},
	frame_system::limits::{BlockLength, BlockWeights},
	pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier},
	sp_runtime::traits::{BlakeTwo256, Hash as HashT, One},
};

parameter_types! {
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: RuntimeVersion = VERSION;
	pub RuntimeBlockWeights: BlockWeights =
		BlockWeights::with_sensible_defaults(MAXIMUM_BLOCK_WEIGHT, NORMAL_DISPATCH_RATIO);
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(5 * 1024 * 1024)
		.modify_max_length_for_class(DispatchClass::Normal, |max| *max = NORMAL_DISPATCH_RATIO * *max)
		.build();
	pub const SS58Prefix: u8 = 42;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	type DbWeight = RocksDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
	/// As a parachain, code upgrades go through the relay chain. (Both arms are spelled
	/// out: `derive_impl` would not fill in a default for an item that `cfg` removes.)
	#[cfg(feature = "parachain")]
	type OnSetCode = polkadot_sdk::cumulus_pallet_parachain_system::ParachainSetCode<Self>;
	#[cfg(not(feature = "parachain"))]
	type OnSetCode = ();
}

/// As a parachain, Aura checks each block's timestamp against its slot.
#[cfg(feature = "parachain")]
type OnTimestampSet = Aura;
#[cfg(not(feature = "parachain"))]
type OnTimestampSet = ();

impl pallet_timestamp::Config for Runtime {
	type Moment = u64;
	type OnTimestampSet = OnTimestampSet;
	type MinimumPeriod = ConstU64<0>;
	type WeightInfo = ();
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ();
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

parameter_types! {
	pub FeeMultiplier: Multiplier = Multiplier::one();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = IdentityFee<Balance>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

/// Randomness for the `Random` assignment strategy: the parent block hash mixed with the
/// subject. Predictable to the block author, which is acceptable because it only spreads
/// load among providers that are all eligible. A relay-chain or VRF source can replace it.
pub struct ParentHashRandomness;
impl Randomness<Hash, BlockNumber> for ParentHashRandomness {
	fn random(subject: &[u8]) -> (Hash, BlockNumber) {
		let parent = System::parent_hash();
		let mut input = alloc::vec::Vec::with_capacity(32 + subject.len());
		input.extend_from_slice(parent.as_ref());
		input.extend_from_slice(subject);
		let block = System::block_number().saturating_sub(One::one());
		(BlakeTwo256::hash(&input), block)
	}
}

parameter_types! {
	pub const DeploymentTypeDeposit: Balance = 10 * UNIT;
	pub const ProviderDeposit: Balance = 100 * UNIT;
	/// Bounds shared by both pallets, so that a type's schema CID and a descriptor CID
	/// have the same limit.
	pub const MaxNameLen: u32 = 64;
	pub const MaxCidLen: u32 = 128;
}

impl pallet_dinfra_providers::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Randomness = ParentHashRandomness;
	type DeploymentTypeDeposit = DeploymentTypeDeposit;
	type ProviderDeposit = ProviderDeposit;
	type MaxNameLen = MaxNameLen;
	type MaxCidLen = MaxCidLen;
	type MaxProvidersPerType = ConstU32<64>;
	type MaxOffersPerProvider = ConstU32<32>;
	type MaxAllowListLen = ConstU32<256>;
	type WeightInfo = pallet_dinfra_providers::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Timeouts live in storage (`:AwardTimeout:` etc., settable by root through
	/// `system.set_storage`) so that a network can tune them without a runtime upgrade, and
	/// the dev chain can shorten them at genesis. The values here are the defaults.
	pub storage AwardTimeout: BlockNumber = HOURS;
	pub storage TeardownTimeout: BlockNumber = HOURS;
	pub storage FinishedRetention: BlockNumber = DAYS;
}

impl pallet_dinfra_subscriptions::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Assigner = DinfraProviders;
	type AwardTimeout = AwardTimeout;
	type TeardownTimeout = TeardownTimeout;
	type FinishedRetention = FinishedRetention;
	type MaxCidLen = MaxCidLen;
	type MaxAccessInfoLen = ConstU32<256>;
	type MaxReasonLen = ConstU32<256>;
	type MaxDeadlinesPerBlock = ConstU32<128>;
	type MaxDeadlineSearch = ConstU32<16>;
	type WeightInfo = pallet_dinfra_subscriptions::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = DinfraProviders;
}

