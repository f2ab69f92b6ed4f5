//! # DINFRA providers pallet
//!
//! Who serves which kind of infrastructure, how much of it, and at what price.
//!
//! - **Deployment types** name the JSON Schema (by IPFS CID) that a deployment descriptor of
//!   that type must satisfy. Anyone may register one against a deposit; names are unique.
//! - **Providers** register against a deposit, and can be `Active` or `Paused`.
//! - **Offers**: a provider offers a deployment type with a capacity (how many live
//!   deployments of that type it takes) and a price per block. The pallet counts capacity use.
//! - **Consumer policy**: a provider accepts anyone, or only the accounts on its allow-list.
//! - **Assignment**: through [`dinfra_primitives::DeploymentAssigner`], the subscriptions
//!   pallet asks for a provider (by strategy, or a named one) and reserves one unit of its
//!   capacity; it gives the unit back when the deployment ends.
//!
//! Every per-call loop is bounded by a `Config` constant (`MaxProvidersPerType`,
//! `MaxOffersPerProvider`, `MaxAllowListLen`), and the weights account for that bound.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

mod assignment;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

use polkadot_sdk::frame_support::traits::fungible;

/// The account type of a runtime.
pub type AccountIdOf<T> = <T as polkadot_sdk::frame_system::Config>::AccountId;
/// The balance type of the currency used for deposits and prices.
pub type BalanceOf<T> = <<T as Config>::Currency as fungible::Inspect<AccountIdOf<T>>>::Balance;

#[polkadot_sdk::frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use dinfra_primitives::DeploymentTypeId;
	use polkadot_sdk::{
		frame_support::{
			pallet_prelude::*,
			traits::{
				fungible::MutateHold,
				tokens::Precision,
				Randomness,
			},
		},
		frame_system::pallet_prelude::*,
		sp_runtime::traits::Zero,
	};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// Deposit for a registered deployment type.
		DeploymentTypeDeposit,
		/// Deposit for a registered provider.
		ProviderDeposit,
	}

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config {
		/// The currency deposits are held in and prices are paid in.
		type Currency: fungible::Inspect<Self::AccountId>
			+ fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's hold reason, which includes this pallet's [`HoldReason`].
		type RuntimeHoldReason: From<HoldReason>;

		/// Source of randomness for the `Random` assignment strategy. It only spreads load;
		/// a block author who biases it can at worst steer which eligible provider wins.
		type Randomness: Randomness<Self::Hash, BlockNumberFor<Self>>;

		/// Deposit held for each registered deployment type.
		#[pallet::constant]
		type DeploymentTypeDeposit: Get<BalanceOf<Self>>;

		/// Deposit held for each registered provider.
		#[pallet::constant]
		type ProviderDeposit: Get<BalanceOf<Self>>;

		/// Longest name of a deployment type or provider, in bytes.
		#[pallet::constant]
		type MaxNameLen: Get<u32>;

		/// Longest CID string, in bytes.
		#[pallet::constant]
		type MaxCidLen: Get<u32>;

		/// How many providers may offer one deployment type; bounds the assignment scan.
		#[pallet::constant]
		type MaxProvidersPerType: Get<u32>;

		/// How many deployment types one provider may offer.
		#[pallet::constant]
		type MaxOffersPerProvider: Get<u32>;

		/// How many consumers one provider's allow-list may hold.
		#[pallet::constant]
		type MaxAllowListLen: Get<u32>;

		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// The id the next registered deployment type gets.
	#[pallet::storage]
	pub type NextDeploymentTypeId<T> = StorageValue<_, DeploymentTypeId, ValueQuery>;

	/// Registered deployment types by id.
	#[pallet::storage]
	pub type DeploymentTypes<T: Config> =
		StorageMap<_, Twox64Concat, DeploymentTypeId, DeploymentType<T>, OptionQuery>;

	/// Deployment type id by its unique name, so that tools can find a type by name.
	#[pallet::storage]
	pub type DeploymentTypeIdByName<T: Config> =
		StorageMap<_, Blake2_128Concat, NameOf<T>, DeploymentTypeId, OptionQuery>;

	/// Registered providers.
	#[pallet::storage]
	pub type Providers<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, Provider<T>, OptionQuery>;

	/// Offers by (provider, deployment type).
	#[pallet::storage]
	pub type Offers<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Twox64Concat,
		DeploymentTypeId,
		Offer<T>,
		OptionQuery,
	>;

	/// The providers that offer a deployment type, in the order their offers were made.
	/// This is the candidate list of every assignment strategy.
	#[pallet::storage]
	pub type OfferedBy<T: Config> = StorageMap<
		_,
		Twox64Concat,
		DeploymentTypeId,
		BoundedVec<T::AccountId, T::MaxProvidersPerType>,
		ValueQuery,
	>;

	/// Round-robin position per deployment type: the index in `OfferedBy` to try first.
	#[pallet::storage]
	pub type RoundRobinCursor<T> = StorageMap<_, Twox64Concat, DeploymentTypeId, u32, ValueQuery>;

	/// Consumers a provider accepts when its policy is `AllowListOnly`: (provider, consumer).
	#[pallet::storage]
	pub type AllowList<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Blake2_128Concat, T::AccountId, (), OptionQuery>;

	#[pallet::genesis_config]
	#[derive(polkadot_sdk::frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Deployment types registered at genesis: (owner, name, schema CID). The owner's
		/// deposit is held as for a normal registration, so the owner must be endowed.
		pub deployment_types: Vec<(T::AccountId, Vec<u8>, Vec<u8>)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (owner, name, cid) in &self.deployment_types {
				Pallet::<T>::do_register_deployment_type(owner, name.clone(), cid.clone())
					.expect("genesis deployment types must be valid and their owners endowed");
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A deployment type was registered.
		DeploymentTypeRegistered { type_id: DeploymentTypeId, owner: T::AccountId, name: NameOf<T>, schema_cid: CidOf<T> },
		/// A provider registered.
		ProviderRegistered { provider: T::AccountId, name: NameOf<T> },
		/// A provider changed its name.
		ProviderRenamed { provider: T::AccountId, name: NameOf<T> },
		/// A provider became `Active` or `Paused`.
		ProviderStatusChanged { provider: T::AccountId, status: ProviderStatus },
		/// A provider deregistered; its offers and allow-list are gone and its deposit released.
		ProviderDeregistered { provider: T::AccountId },
		/// A provider created or changed an offer.
		OfferSet { provider: T::AccountId, type_id: DeploymentTypeId, capacity: u32, price_per_block: BalanceOf<T> },
		/// A provider withdrew an offer.
		OfferRemoved { provider: T::AccountId, type_id: DeploymentTypeId },
		/// A provider changed whom it accepts.
		ConsumerPolicyChanged { provider: T::AccountId, policy: ConsumerPolicy },
		/// A consumer was added to a provider's allow-list.
		ConsumerAllowed { provider: T::AccountId, consumer: T::AccountId },
		/// A consumer was removed from a provider's allow-list.
		ConsumerDisallowed { provider: T::AccountId, consumer: T::AccountId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The name is longer than `MaxNameLen` bytes.
		NameTooLong,
		/// The name is empty, or (for a deployment type) not made of `[a-z0-9._-]`.
		InvalidName,
		/// The CID is longer than `MaxCidLen` bytes.
		CidTooLong,
		/// The CID is empty or has a character no multibase CID string has.
		InvalidCid,
		/// A deployment type with this name is already registered.
		DeploymentTypeNameTaken,
		/// All deployment type ids are used.
		DeploymentTypeIdsExhausted,
		/// No deployment type has this id.
		UnknownDeploymentType,
		/// The caller is already a registered provider.
		ProviderAlreadyRegistered,
		/// The account is not a registered provider.
		NotAProvider,
		/// The provider still has deployments that are not terminated or failed.
		ProviderHasLiveDeployments,
		/// The offer still has deployments that are not terminated or failed.
		OfferHasLiveDeployments,
		/// The provider has no offer for this deployment type.
		NoSuchOffer,
		/// A price per block of zero would make a deployment's deposit last forever.
		ZeroPrice,
		/// The provider already offers `MaxOffersPerProvider` deployment types.
		TooManyOffers,
		/// `MaxProvidersPerType` providers already offer this deployment type.
		TooManyProvidersForType,
		/// The allow-list already holds `MaxAllowListLen` consumers.
		AllowListFull,
		/// The consumer is already on the allow-list.
		AlreadyAllowed,
		/// The consumer is not on the allow-list.
		NotOnAllowList,
		/// No active provider with free capacity, that accepts this consumer, offers the type.
		NoEligibleProvider,
		/// The named provider is paused.
		ProviderPaused,
		/// The named provider has no free capacity for this deployment type.
		NoFreeCapacity,
		/// The named provider does not accept this consumer.
		ConsumerNotAllowed,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers a deployment type named `name` whose descriptors follow the JSON Schema
		/// at `schema_cid`, and holds `DeploymentTypeDeposit` from the caller.
		///
		/// Emits `DeploymentTypeRegistered` with the new type id.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_deployment_type())]
		pub fn register_deployment_type(origin: OriginFor<T>, name: Vec<u8>, schema_cid: Vec<u8>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register_deployment_type(&who, name, schema_cid).map(|_| ())
		}

		/// Registers the caller as a provider named `name`, `Active` and accepting anyone,
		/// and holds `ProviderDeposit` from it.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::register_provider())]
		pub fn register_provider(origin: OriginFor<T>, name: Vec<u8>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!Providers::<T>::contains_key(&who), Error::<T>::ProviderAlreadyRegistered);
			let name = Self::free_text_name(name)?;
			let deposit = T::ProviderDeposit::get();
			T::Currency::hold(&HoldReason::ProviderDeposit.into(), &who, deposit)?;
			Providers::<T>::insert(
				&who,
				Provider {
					name: name.clone(),
					status: ProviderStatus::Active,
					policy: ConsumerPolicy::AcceptAll,
					deposit,
					live_deployments: 0,
					offer_count: 0,
					allow_list_len: 0,
				},
			);
			Self::deposit_event(Event::ProviderRegistered { provider: who, name });
			Ok(())
		}

		/// Changes the caller's provider name.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::set_provider_name())]
		pub fn set_provider_name(origin: OriginFor<T>, name: Vec<u8>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let name = Self::free_text_name(name)?;
			Providers::<T>::try_mutate(&who, |p| -> DispatchResult {
				let p = p.as_mut().ok_or(Error::<T>::NotAProvider)?;
				p.name = name.clone();
				Ok(())
			})?;
			Self::deposit_event(Event::ProviderRenamed { provider: who, name });
			Ok(())
		}

		/// Sets the caller's status. A `Paused` provider keeps its live deployments but is
		/// never assigned new ones.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::set_provider_status())]
		pub fn set_provider_status(origin: OriginFor<T>, status: ProviderStatus) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Providers::<T>::try_mutate(&who, |p| -> DispatchResult {
				p.as_mut().ok_or(Error::<T>::NotAProvider)?.status = status;
				Ok(())
			})?;
			Self::deposit_event(Event::ProviderStatusChanged { provider: who, status });
			Ok(())
		}

		/// Deregisters the caller: removes its offers and allow-list and releases its deposit.
		/// Refused while the provider has live deployments.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::deregister_provider(T::MaxOffersPerProvider::get(), T::MaxAllowListLen::get()))]
		pub fn deregister_provider(origin: OriginFor<T>) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let provider = Providers::<T>::get(&who).ok_or(Error::<T>::NotAProvider)?;
			ensure!(provider.live_deployments == 0, Error::<T>::ProviderHasLiveDeployments);

			let type_ids: Vec<DeploymentTypeId> = Offers::<T>::iter_key_prefix(&who).collect();
			for type_id in &type_ids {
				Offers::<T>::remove(&who, type_id);
				OfferedBy::<T>::mutate(type_id, |list| list.retain(|p| p != &who));
			}
			let _ = AllowList::<T>::clear_prefix(&who, provider.allow_list_len.saturating_add(1), None);
			T::Currency::release(&HoldReason::ProviderDeposit.into(), &who, provider.deposit, Precision::BestEffort)?;
			Providers::<T>::remove(&who);

			Self::deposit_event(Event::ProviderDeregistered { provider: who });
			Ok(Some(T::WeightInfo::deregister_provider(type_ids.len() as u32, provider.allow_list_len)).into())
		}

		/// Creates or changes the caller's offer for `type_id`. Lowering the capacity below
		/// the number in use is allowed: the provider then gets no new deployments of the type
		/// until enough end.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::set_offer())]
		pub fn set_offer(
			origin: OriginFor<T>,
			type_id: DeploymentTypeId,
			capacity: u32,
			price_per_block: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(DeploymentTypes::<T>::contains_key(type_id), Error::<T>::UnknownDeploymentType);
			ensure!(!price_per_block.is_zero(), Error::<T>::ZeroPrice);
			let mut provider = Providers::<T>::get(&who).ok_or(Error::<T>::NotAProvider)?;

			match Offers::<T>::get(&who, type_id) {
				Some(mut offer) => {
					offer.capacity = capacity;
					offer.price_per_block = price_per_block;
					Offers::<T>::insert(&who, type_id, offer);
				},
				None => {
					ensure!(provider.offer_count < T::MaxOffersPerProvider::get(), Error::<T>::TooManyOffers);
					OfferedBy::<T>::try_mutate(type_id, |list| list.try_push(who.clone()))
						.map_err(|_| Error::<T>::TooManyProvidersForType)?;
					provider.offer_count = provider.offer_count.saturating_add(1);
					Providers::<T>::insert(&who, provider);
					Offers::<T>::insert(&who, type_id, Offer { capacity, in_use: 0, price_per_block });
				},
			}
			Self::deposit_event(Event::OfferSet { provider: who, type_id, capacity, price_per_block });
			Ok(())
		}

		/// Withdraws the caller's offer for `type_id`. Refused while deployments of that
		/// type assigned to the caller are live.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::remove_offer())]
		pub fn remove_offer(origin: OriginFor<T>, type_id: DeploymentTypeId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut provider = Providers::<T>::get(&who).ok_or(Error::<T>::NotAProvider)?;
			let offer = Offers::<T>::get(&who, type_id).ok_or(Error::<T>::NoSuchOffer)?;
			ensure!(offer.in_use == 0, Error::<T>::OfferHasLiveDeployments);

			Offers::<T>::remove(&who, type_id);
			OfferedBy::<T>::mutate(type_id, |list| list.retain(|p| p != &who));
			provider.offer_count = provider.offer_count.saturating_sub(1);
			Providers::<T>::insert(&who, provider);
			Self::deposit_event(Event::OfferRemoved { provider: who, type_id });
			Ok(())
		}

		/// Sets whom the caller accepts: anyone, or only the consumers on its allow-list.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::set_consumer_policy())]
		pub fn set_consumer_policy(origin: OriginFor<T>, policy: ConsumerPolicy) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Providers::<T>::try_mutate(&who, |p| -> DispatchResult {
				p.as_mut().ok_or(Error::<T>::NotAProvider)?.policy = policy;
				Ok(())
			})?;
			Self::deposit_event(Event::ConsumerPolicyChanged { provider: who, policy });
			Ok(())
		}

		/// Adds `consumer` to the caller's allow-list.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::allow_consumer())]
		pub fn allow_consumer(origin: OriginFor<T>, consumer: T::AccountId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut provider = Providers::<T>::get(&who).ok_or(Error::<T>::NotAProvider)?;
			ensure!(!AllowList::<T>::contains_key(&who, &consumer), Error::<T>::AlreadyAllowed);
			ensure!(provider.allow_list_len < T::MaxAllowListLen::get(), Error::<T>::AllowListFull);
			provider.allow_list_len = provider.allow_list_len.saturating_add(1);
			Providers::<T>::insert(&who, provider);
			AllowList::<T>::insert(&who, &consumer, ());
			Self::deposit_event(Event::ConsumerAllowed { provider: who, consumer });
			Ok(())
		}

		/// Removes `consumer` from the caller's allow-list. Its live deployments continue.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::disallow_consumer())]
		pub fn disallow_consumer(origin: OriginFor<T>, consumer: T::AccountId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut provider = Providers::<T>::get(&who).ok_or(Error::<T>::NotAProvider)?;
			ensure!(AllowList::<T>::take(&who, &consumer).is_some(), Error::<T>::NotOnAllowList);
			provider.allow_list_len = provider.allow_list_len.saturating_sub(1);
			Providers::<T>::insert(&who, provider);
			Self::deposit_event(Event::ConsumerDisallowed { provider: who, consumer });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Validates and stores a deployment type; shared by the call and genesis.
		pub(crate) fn do_register_deployment_type(
			who: &T::AccountId,
			name: Vec<u8>,
			schema_cid: Vec<u8>,
		) -> Result<DeploymentTypeId, DispatchError> {
			let name = Self::type_name(name)?;
			let schema_cid = Self::cid(schema_cid)?;
			ensure!(!DeploymentTypeIdByName::<T>::contains_key(&name), Error::<T>::DeploymentTypeNameTaken);
			let type_id = NextDeploymentTypeId::<T>::get();
			let next = type_id.checked_add(1).ok_or(Error::<T>::DeploymentTypeIdsExhausted)?;

			let deposit = T::DeploymentTypeDeposit::get();
			T::Currency::hold(&HoldReason::DeploymentTypeDeposit.into(), who, deposit)?;
			NextDeploymentTypeId::<T>::put(next);
			DeploymentTypeIdByName::<T>::insert(&name, type_id);
			DeploymentTypes::<T>::insert(
				type_id,
				DeploymentType { owner: who.clone(), name: name.clone(), schema_cid: schema_cid.clone(), deposit },
			);
			Self::deposit_event(Event::DeploymentTypeRegistered { type_id, owner: who.clone(), name, schema_cid });
			Ok(type_id)
		}

		/// A deployment type name: non-empty, bounded, `[a-z0-9._-]`, because tools use it
		/// verbatim as group names and file names.
		fn type_name(raw: Vec<u8>) -> Result<NameOf<T>, DispatchError> {
			let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-');
			ensure!(!raw.is_empty() && raw.iter().all(ok), Error::<T>::InvalidName);
			Ok(NameOf::<T>::try_from(raw).map_err(|_| Error::<T>::NameTooLong)?)
		}

		/// A provider name: non-empty, bounded, valid UTF-8. Otherwise free text.
		fn free_text_name(raw: Vec<u8>) -> Result<NameOf<T>, DispatchError> {
			ensure!(raw.len() <= T::MaxNameLen::get() as usize, Error::<T>::NameTooLong);
			ensure!(!raw.is_empty() && core::str::from_utf8(&raw).is_ok(), Error::<T>::InvalidName);
			Ok(NameOf::<T>::try_from(raw).map_err(|_| Error::<T>::NameTooLong)?)
		}

		/// A bounded, plausible CID string. Whether it resolves is checked off chain.
		fn cid(raw: Vec<u8>) -> Result<CidOf<T>, DispatchError> {
			ensure!(raw.len() <= T::MaxCidLen::get() as usize, Error::<T>::CidTooLong);
			ensure!(dinfra_primitives::is_plausible_cid(&raw), Error::<T>::InvalidCid);
			Ok(CidOf::<T>::try_from(raw).map_err(|_| Error::<T>::CidTooLong)?)
		}
	}
}
