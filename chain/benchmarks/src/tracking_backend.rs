//! An in-memory state backend that counts storage reads and writes per key, the way a
//! node's benchmarking database does, so that FRAME's `run_benchmark` can run natively.
//!
//! FRAME's benchmark loop needs from the backend: `commit` (apply the overlay, counting the
//! keys written), `wipe` (back to genesis after each run), `reset_read_write_count` and
//! `read_write_count`, a whitelist of keys that are never counted, and `proof_size`. The
//! plain in-memory trie backend leaves all of those unimplemented.
//!
//! `proof_size` is measured, not estimated: it is the encoded size of a real storage proof
//! of every non-whitelisted key read since the last reset, against the state at that reset.

use polkadot_sdk::{
	sp_core::{
		storage::{ChildInfo, StateVersion, TrackedStorageKey},
		Hasher,
	},
	sp_runtime::traits::BlakeTwo256,
	sp_state_machine::{
		prove_read, Backend, BackendTransaction, ChildStorageCollection, InMemoryBackend, IterArgs,
		StateMachineStats, StorageCollection, StorageIterator, StorageKey, StorageValue, UsageInfo,
	},
	sp_trie::MerkleValue,
};
use codec::Encode;
use std::{cell::RefCell, collections::BTreeMap};

type H = BlakeTwo256;
type Memory = InMemoryBackend<H>;
type Error = <Memory as Backend<H>>::Error;

/// How often one key was read and written since the last reset.
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
struct KeyUse {
	reads: u32,
	writes: u32,
}

#[derive(Debug)]
pub struct TrackingBackend {
	genesis: Memory,
	state: RefCell<Memory>,
	/// The state at the last reset; proofs are made against it.
	at_reset: RefCell<Memory>,
	uses: RefCell<BTreeMap<Vec<u8>, KeyUse>>,
	whitelist: RefCell<Vec<TrackedStorageKey>>,
}

impl TrackingBackend {
	pub fn new(genesis: Memory) -> Self {
		Self {
			state: RefCell::new(genesis.clone()),
			at_reset: RefCell::new(genesis.clone()),
			genesis,
			uses: Default::default(),
			whitelist: Default::default(),
		}
	}

	fn whitelisted(&self, key: &[u8]) -> bool {
		self.whitelist.borrow().iter().any(|w| w.key == key)
	}

	fn note_read(&self, key: &[u8]) {
		self.uses.borrow_mut().entry(key.to_vec()).or_default().reads += 1;
	}

	fn note_write(&self, key: &[u8]) {
		self.uses.borrow_mut().entry(key.to_vec()).or_default().writes += 1;
	}

	/// Child-trie keys are counted under the child trie's storage key plus the key.
	fn child_key(child_info: &ChildInfo, key: &[u8]) -> Vec<u8> {
		let mut full = child_info.prefixed_storage_key().into_inner();
		full.extend_from_slice(key);
		full
	}

	/// The non-whitelisted uses, as (key, use).
	fn counted(&self) -> Vec<(Vec<u8>, KeyUse)> {
		self.uses.borrow().iter().filter(|(k, _)| !self.whitelisted(k)).map(|(k, u)| (k.clone(), *u)).collect()
	}
}

/// Iterates the inner state, counting each key it yields as read.
pub struct TrackingIter {
	inner: <Memory as Backend<H>>::RawIter,
}

impl StorageIterator<H> for TrackingIter {
	type Backend = TrackingBackend;
	type Error = Error;

	fn next_key(&mut self, backend: &TrackingBackend) -> Option<Result<StorageKey, Error>> {
		let next = self.inner.next_key(&backend.state.borrow());
		if let Some(Ok(key)) = &next {
			backend.note_read(key);
		}
		next
	}

	fn next_pair(&mut self, backend: &TrackingBackend) -> Option<Result<(StorageKey, StorageValue), Error>> {
		let next = self.inner.next_pair(&backend.state.borrow());
		if let Some(Ok((key, _))) = &next {
			backend.note_read(key);
		}
		next
	}

	fn was_complete(&self) -> bool {
		self.inner.was_complete()
	}
}

impl Backend<H> for TrackingBackend {
	type Error = Error;
	type TrieBackendStorage = <Memory as Backend<H>>::TrieBackendStorage;
	type RawIter = TrackingIter;

	fn storage(&self, key: &[u8]) -> Result<Option<StorageValue>, Error> {
		self.note_read(key);
		self.state.borrow().storage(key)
	}

	fn storage_hash(&self, key: &[u8]) -> Result<Option<<H as Hasher>::Out>, Error> {
		self.note_read(key);
		self.state.borrow().storage_hash(key)
	}

	fn closest_merkle_value(&self, key: &[u8]) -> Result<Option<MerkleValue<<H as Hasher>::Out>>, Error> {
		self.note_read(key);
		self.state.borrow().closest_merkle_value(key)
	}

	fn child_closest_merkle_value(
		&self,
		child_info: &ChildInfo,
		key: &[u8],
	) -> Result<Option<MerkleValue<<H as Hasher>::Out>>, Error> {
		self.note_read(&Self::child_key(child_info, key));
		self.state.borrow().child_closest_merkle_value(child_info, key)
	}

	fn child_storage(&self, child_info: &ChildInfo, key: &[u8]) -> Result<Option<StorageValue>, Error> {
		self.note_read(&Self::child_key(child_info, key));
		self.state.borrow().child_storage(child_info, key)
	}

	fn child_storage_hash(&self, child_info: &ChildInfo, key: &[u8]) -> Result<Option<<H as Hasher>::Out>, Error> {
		self.note_read(&Self::child_key(child_info, key));
		self.state.borrow().child_storage_hash(child_info, key)
	}

	fn next_storage_key(&self, key: &[u8]) -> Result<Option<StorageKey>, Error> {
		let next = self.state.borrow().next_storage_key(key)?;
		if let Some(next) = &next {
			self.note_read(next);
		}
		Ok(next)
	}

	fn next_child_storage_key(&self, child_info: &ChildInfo, key: &[u8]) -> Result<Option<StorageKey>, Error> {
		let next = self.state.borrow().next_child_storage_key(child_info, key)?;
		if let Some(next) = &next {
			self.note_read(&Self::child_key(child_info, next));
		}
		Ok(next)
	}

	fn storage_root<'a>(
		&self,
		delta: impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)>,
		state_version: StateVersion,
	) -> (<H as Hasher>::Out, BackendTransaction<H>) {
		self.state.borrow().storage_root(delta, state_version)
	}

	fn child_storage_root<'a>(
		&self,
		child_info: &ChildInfo,
		delta: impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)>,
		state_version: StateVersion,
	) -> (<H as Hasher>::Out, bool, BackendTransaction<H>) {
		self.state.borrow().child_storage_root(child_info, delta, state_version)
	}

	fn raw_iter(&self, args: IterArgs) -> Result<TrackingIter, Error> {
		Ok(TrackingIter { inner: self.state.borrow().raw_iter(args)? })
	}

	fn register_overlay_stats(&self, stats: &StateMachineStats) {
		self.state.borrow().register_overlay_stats(stats)
	}

	fn usage_info(&self) -> UsageInfo {
		self.state.borrow().usage_info()
	}

	fn wipe(&self) -> Result<(), Error> {
		*self.state.borrow_mut() = self.genesis.clone();
		*self.at_reset.borrow_mut() = self.genesis.clone();
		self.uses.borrow_mut().clear();
		Ok(())
	}

	fn commit(
		&self,
		storage_root: <H as Hasher>::Out,
		transaction: BackendTransaction<H>,
		main_storage_changes: StorageCollection,
		child_storage_changes: ChildStorageCollection,
	) -> Result<(), Error> {
		for (key, _) in &main_storage_changes {
			self.note_write(key);
		}
		for (child_key, changes) in &child_storage_changes {
			for (key, _) in changes {
				let mut full = child_key.clone();
				full.extend_from_slice(key);
				self.note_write(&full);
			}
		}
		self.state.borrow_mut().apply_transaction(storage_root, transaction);
		Ok(())
	}

	fn read_write_count(&self) -> (u32, u32, u32, u32) {
		let (mut reads, mut repeat_reads, mut writes, mut repeat_writes) = (0, 0, 0, 0);
		for (_, used) in self.counted() {
			if used.reads > 0 {
				reads += 1;
				repeat_reads += used.reads - 1;
			}
			if used.writes > 0 {
				writes += 1;
				repeat_writes += used.writes - 1;
			}
		}
		(reads, repeat_reads, writes, repeat_writes)
	}

	fn reset_read_write_count(&self) {
		self.uses.borrow_mut().clear();
		*self.at_reset.borrow_mut() = self.state.borrow().clone();
	}

	fn get_whitelist(&self) -> Vec<TrackedStorageKey> {
		self.whitelist.borrow().clone()
	}

	fn set_whitelist(&self, new: Vec<TrackedStorageKey>) {
		*self.whitelist.borrow_mut() = new;
	}

	fn proof_size(&self) -> Option<u32> {
		let keys: Vec<Vec<u8>> =
			self.counted().into_iter().filter(|(_, used)| used.reads > 0).map(|(key, _)| key).collect();
		if keys.is_empty() {
			return Some(0);
		}
		let proof = prove_read(self.at_reset.borrow().clone(), keys.iter()).ok()?;
		Some(proof.encoded_size() as u32)
	}

	fn get_read_and_written_keys(&self) -> Vec<(Vec<u8>, u32, u32, bool)> {
		self.uses.borrow().iter().map(|(k, u)| (k.clone(), u.reads, u.writes, self.whitelisted(k))).collect()
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use polkadot_sdk::{sp_externalities::set_and_run_with_externalities, sp_io::storage, sp_state_machine::Ext};
	use polkadot_sdk::sp_state_machine::OverlayedChanges;

	fn backend() -> TrackingBackend {
		let genesis: Memory = (
			vec![(None, vec![(b"a".to_vec(), Some(vec![1u8; 40])), (b"b".to_vec(), Some(vec![2u8; 40]))])],
			StateVersion::V1,
		)
			.into();
		TrackingBackend::new(genesis)
	}

	fn run<R>(backend: &TrackingBackend, f: impl FnOnce() -> R) -> R {
		let mut overlay = OverlayedChanges::default();
		let mut ext = Ext::new(&mut overlay, backend, None);
		set_and_run_with_externalities(&mut ext, f)
	}

	#[test]
	fn counts_distinct_reads_and_writes_and_skips_the_whitelist() {
		let backend = backend();
		backend.set_whitelist(vec![TrackedStorageKey::new(b"b".to_vec())]);
		run(&backend, || {
			assert_eq!(storage::get(b"a").map(|v| v.len()), Some(40));
			storage::get(b"a");
			storage::get(b"b");
			storage::set(b"c", b"new");
			storage::set(b"c", b"newer");
			polkadot_sdk::frame_benchmarking::benchmarking::commit_db();
		});
		// "c" is written twice in the overlay but committed once.
		assert_eq!(backend.read_write_count(), (1, 1, 1, 0));
		assert!(backend.proof_size().unwrap() > 40, "the proof holds the 40-byte value of 'a'");
		assert_eq!(backend.state.borrow().storage(b"c").unwrap(), Some(b"newer".to_vec()));
	}

	#[test]
	fn reset_clears_counts_and_wipe_restores_genesis() {
		let backend = backend();
		run(&backend, || {
			storage::set(b"a", b"changed");
			polkadot_sdk::frame_benchmarking::benchmarking::commit_db();
		});
		backend.reset_read_write_count();
		assert_eq!(backend.read_write_count(), (0, 0, 0, 0));
		assert_eq!(backend.proof_size(), Some(0));
		backend.wipe().unwrap();
		assert_eq!(backend.storage(b"a").unwrap(), Some(vec![1u8; 40]));
	}
}
