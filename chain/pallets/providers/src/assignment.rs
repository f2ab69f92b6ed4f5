//! Picking a provider for a new deployment, and the capacity bookkeeping around it.

use crate::{
	pallet::{AllowList, Config, DeploymentTypes, Error, OfferedBy, Offers, Pallet, Providers, RoundRobinCursor},
	BalanceOf, ConsumerPolicy, ProviderStatus,
};
use codec::Encode;
use dinfra_primitives::{Assignment, AssignmentStrategy, DeploymentAssigner, DeploymentTypeId};
use polkadot_sdk::{
	frame_support::traits::{Get, Randomness},
	sp_runtime::{traits::SaturatedConversion, DispatchError},
};

/// Why a provider cannot take a deployment; turned into the matching pallet error when the
/// consumer named that provider.
enum Ineligible {
	NotAProvider,
	Paused,
	NoOffer,
	Full,
	NotAllowed,
}

impl<T: Config> Pallet<T> {
	/// Checks every eligibility rule for one provider and returns its free capacity.
	fn eligibility(
		provider: &T::AccountId,
		type_id: DeploymentTypeId,
		consumer: &T::AccountId,
	) -> Result<u32, Ineligible> {
		let info = Providers::<T>::get(provider).ok_or(Ineligible::NotAProvider)?;
		if info.status != ProviderStatus::Active {
			return Err(Ineligible::Paused);
		}
		let offer = Offers::<T>::get(provider, type_id).ok_or(Ineligible::NoOffer)?;
		if offer.free() == 0 {
			return Err(Ineligible::Full);
		}
		if info.policy == ConsumerPolicy::AllowListOnly && !AllowList::<T>::contains_key(provider, consumer) {
			return Err(Ineligible::NotAllowed);
		}
		Ok(offer.free())
	}

	/// Index in `candidates` of the first eligible provider, scanning circularly from `start`.
	fn first_eligible_from(
		candidates: &[T::AccountId],
		start: usize,
		type_id: DeploymentTypeId,
		consumer: &T::AccountId,
	) -> Option<usize> {
		let n = candidates.len();
		(0..n)
			.map(|offset| (start + offset) % n)
			.find(|&i| Self::eligibility(&candidates[i], type_id, consumer).is_ok())
	}

	/// Picks a provider by strategy among those offering `type_id`.
	fn pick(
		type_id: DeploymentTypeId,
		consumer: &T::AccountId,
		strategy: AssignmentStrategy,
	) -> Result<T::AccountId, DispatchError> {
		let candidates = OfferedBy::<T>::get(type_id);
		if candidates.is_empty() {
			return Err(Error::<T>::NoEligibleProvider.into());
		}
		let n = candidates.len();
		let chosen = match strategy {
			AssignmentStrategy::RoundRobin => {
				let start = RoundRobinCursor::<T>::get(type_id) as usize % n;
				let chosen = Self::first_eligible_from(&candidates, start, type_id, consumer);
				if let Some(i) = chosen {
					RoundRobinCursor::<T>::insert(type_id, ((i + 1) % n) as u32);
				}
				chosen
			},
			AssignmentStrategy::Random => {
				let subject = (b"dinfra/assign", type_id, consumer).encode();
				let (seed, _) = T::Randomness::random(&subject);
				let start = seed.as_ref().iter().take(8).fold(0u64, |acc, b| (acc << 8) | *b as u64);
				Self::first_eligible_from(&candidates, start.saturated_into::<usize>() % n, type_id, consumer)
			},
			AssignmentStrategy::CapacityBased => {
				// Most free capacity wins; ties go to the provider that offered first.
				let mut best: Option<(usize, u32)> = None;
				for (i, p) in candidates.iter().enumerate() {
					if let Ok(free) = Self::eligibility(p, type_id, consumer) {
						if best.map_or(true, |(_, f)| free > f) {
							best = Some((i, free));
						}
					}
				}
				best.map(|(i, _)| i)
			},
		};
		chosen.map(|i| candidates[i].clone()).ok_or_else(|| Error::<T>::NoEligibleProvider.into())
	}
}

impl<T: Config> DeploymentAssigner<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn deployment_type_exists(type_id: DeploymentTypeId) -> bool {
		DeploymentTypes::<T>::contains_key(type_id)
	}

	fn assign(
		type_id: DeploymentTypeId,
		consumer: &T::AccountId,
		strategy: AssignmentStrategy,
		preferred: Option<&T::AccountId>,
	) -> Result<Assignment<T::AccountId, BalanceOf<T>>, DispatchError> {
		if !DeploymentTypes::<T>::contains_key(type_id) {
			return Err(Error::<T>::UnknownDeploymentType.into());
		}
		let provider = match preferred {
			Some(p) => {
				Self::eligibility(p, type_id, consumer).map_err(|why| match why {
					Ineligible::NotAProvider => Error::<T>::NotAProvider,
					Ineligible::Paused => Error::<T>::ProviderPaused,
					Ineligible::NoOffer => Error::<T>::NoSuchOffer,
					Ineligible::Full => Error::<T>::NoFreeCapacity,
					Ineligible::NotAllowed => Error::<T>::ConsumerNotAllowed,
				})?;
				p.clone()
			},
			None => Self::pick(type_id, consumer, strategy)?,
		};

		// Eligibility guarantees both entries exist and the offer has a free unit.
		let mut offer = Offers::<T>::get(&provider, type_id).ok_or(Error::<T>::NoSuchOffer)?;
		offer.in_use = offer.in_use.saturating_add(1);
		let price_per_block = offer.price_per_block;
		Offers::<T>::insert(&provider, type_id, offer);
		Providers::<T>::try_mutate(&provider, |p| -> Result<(), DispatchError> {
			let p = p.as_mut().ok_or(Error::<T>::NotAProvider)?;
			p.live_deployments = p.live_deployments.saturating_add(1);
			Ok(())
		})?;
		Ok(Assignment { provider, price_per_block })
	}

	fn max_candidates() -> u32 {
		T::MaxProvidersPerType::get()
	}

	fn release(provider: &T::AccountId, type_id: DeploymentTypeId) {
		// `remove_offer` and `deregister_provider` are refused while units are in use, so both
		// entries exist here; the `if let`s only keep a broken invariant from panicking.
		Offers::<T>::mutate(provider, type_id, |offer| {
			if let Some(offer) = offer {
				offer.in_use = offer.in_use.saturating_sub(1);
			}
		});
		Providers::<T>::mutate(provider, |p| {
			if let Some(p) = p {
				p.live_deployments = p.live_deployments.saturating_sub(1);
			}
		});
	}
}
