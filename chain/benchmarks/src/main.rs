//! Runs the DINFRA pallets' FRAME benchmarks on the real runtime (natively, in release), on
//! a backend that counts storage reads, writes and proof size, and writes one JSON file per
//! pallet for `gen_weights.py`, which turns it into the pallet's `weights.rs`.
//!
//! A node-based runner (`frame-omni-bencher`) would measure the same code in wasm, but it
//! takes far longer to compile than CI allows on two cores. Native execution is faster than
//! wasm; docs/performance.md records the figures and that caveat.
//!
//! usage: dinfra-benchmarks --out DIR [--steps N] [--repeat N]

mod tracking_backend;

use dinfra_runtime::{AllPalletsWithSystem, Runtime, RuntimeGenesisConfig};
use polkadot_sdk::{
	frame_benchmarking::{Analysis, BenchmarkParameter, BenchmarkResult, BenchmarkSelector, Benchmarking},
	frame_support::traits::WhitelistedStorageKeys,
	sp_core::storage::{StateVersion, TrackedStorageKey},
	sp_externalities::set_and_run_with_externalities,
	sp_runtime::BuildStorage,
	sp_state_machine::{Ext, OverlayedChanges},
};
use serde_json::{json, Value};
use std::{fs, path::PathBuf};
use tracking_backend::TrackingBackend;

struct Options {
	out: PathBuf,
	steps: u32,
	repeat: u32,
}

fn options() -> Options {
	let mut opts = Options { out: PathBuf::from("."), steps: 20, repeat: 50 };
	let mut args = std::env::args().skip(1);
	while let Some(arg) = args.next() {
		let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
		match arg.as_str() {
			"--out" => opts.out = PathBuf::from(value()),
			"--steps" => opts.steps = value().parse().expect("--steps takes a number"),
			"--repeat" => opts.repeat = value().parse().expect("--repeat takes a number"),
			other => panic!("unknown argument {other}; usage: dinfra-benchmarks --out DIR [--steps N] [--repeat N]"),
		}
	}
	assert!(opts.steps >= 2, "--steps must be at least 2");
	opts
}

/// RFC 7386-style merge: objects merge key by key, anything else replaces.
fn merge(base: &mut Value, patch: Value) {
	match (base, patch) {
		(Value::Object(base), Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}

/// The runtime's `development` genesis, as the dev chain starts from it.
fn genesis() -> TrackingBackend {
	let preset = dinfra_runtime::genesis_config_presets::get_preset(&"development".into()).expect("preset exists");
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).expect("config serialises");
	merge(&mut config, serde_json::from_slice(&preset).expect("preset is json"));
	let config: RuntimeGenesisConfig = serde_json::from_value(config).expect("preset fits the config");
	let storage = config.build_storage().expect("genesis builds");
	TrackingBackend::new((storage, StateVersion::V1).into())
}

/// The component values to run: each component stepped from low to high while the others
/// stay at their highest, as frame-benchmarking-cli does. One empty point without components.
fn points(components: &[(BenchmarkParameter, u32, u32)], steps: u32) -> Vec<Vec<(BenchmarkParameter, u32)>> {
	let highest: Vec<_> = components.iter().map(|(p, _, high)| (*p, *high)).collect();
	let mut out = vec![highest.clone()];
	for (i, (_, low, high)) in components.iter().enumerate() {
		for s in 0..steps {
			let mut point = highest.clone();
			point[i].1 = low + (high - low) * s / (steps - 1);
			if !out.contains(&point) {
				out.push(point);
			}
		}
	}
	out
}

fn run_benchmark<P: Benchmarking>(
	backend: &TrackingBackend,
	name: &[u8],
	point: &[(BenchmarkParameter, u32)],
	whitelist: &[TrackedStorageKey],
) -> Vec<BenchmarkResult> {
	let mut overlay = OverlayedChanges::default();
	let mut ext = Ext::new(&mut overlay, backend, None);
	set_and_run_with_externalities(&mut ext, || P::run_benchmark(name, point, whitelist, false, 1))
		.unwrap_or_else(|e| panic!("benchmark {} at {point:?} failed: {e:?}", String::from_utf8_lossy(name)))
}

/// Base and per-component slopes of one metric, by least squares over the inter-quartile
/// range (FRAME's own analysis), falling back to median slopes.
fn fit(results: &Vec<BenchmarkResult>, selector: BenchmarkSelector) -> (u128, Vec<(String, u128)>) {
	let analysis = Analysis::min_squares_iqr(results, selector)
		.or_else(|_| Analysis::median_slopes(results, selector))
		.unwrap_or_else(|e| panic!("cannot fit the results: {e}"));
	(analysis.base, analysis.names.into_iter().zip(analysis.slopes).collect())
}

fn benchmark_pallet<P: Benchmarking>(pallet: &str, opts: &Options, whitelist: &[TrackedStorageKey]) -> Value {
	let backend = genesis();
	let mut benchmarks = Vec::new();
	for meta in P::benchmarks(false) {
		let name = String::from_utf8(meta.name.clone()).expect("utf-8 name");
		let mut results = Vec::new();
		for point in points(&meta.components, opts.steps) {
			for _ in 0..opts.repeat {
				results.extend(run_benchmark::<P>(&backend, &meta.name, &point, whitelist));
			}
		}
		let metrics = [
			("ref_time", BenchmarkSelector::ExtrinsicTime),
			("proof_size", BenchmarkSelector::ProofSize),
			("reads", BenchmarkSelector::Reads),
			("writes", BenchmarkSelector::Writes),
		];
		let mut base = serde_json::Map::new();
		let mut slopes = serde_json::Map::new();
		for (metric, selector) in metrics {
			let (b, per_component) = fit(&results, selector);
			base.insert(metric.into(), json!(b));
			for (component, slope) in per_component {
				slopes.entry(component).or_insert_with(|| json!({})).as_object_mut().unwrap().insert(metric.into(), json!(slope));
			}
		}
		let components: Vec<String> = meta.components.iter().map(|(p, _, _)| p.to_string()).collect();
		eprintln!("  {pallet}::{name}: {} runs, base {}", results.len(), Value::Object(base.clone()));
		benchmarks.push(json!({ "name": name, "components": components, "base": base, "slopes": slopes }));
	}
	json!({ "pallet": pallet, "benchmarks": benchmarks })
}

fn machine() -> String {
	let cpu = fs::read_to_string("/proc/cpuinfo")
		.ok()
		.and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
		.unwrap_or_else(|| "unknown CPU".into());
	let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
	format!("{cpu}, {cores} cores; native release build")
}

fn main() {
	let opts = options();
	fs::create_dir_all(&opts.out).expect("output directory");
	let whitelist = AllPalletsWithSystem::whitelisted_storage_keys();
	let run = |pallet: &str, mut spec: Value| {
		spec["machine"] = json!(machine());
		spec["runner"] = json!(format!("chain/benchmarks, {} steps, {} repeats", opts.steps, opts.repeat));
		spec["generated"] = json!(std::env::var("DINFRA_BENCH_DATE").unwrap_or_else(|_| "unknown".into()));
		let path = opts.out.join(format!("{pallet}.json"));
		fs::write(&path, serde_json::to_string_pretty(&spec).unwrap()).expect("write results");
		eprintln!("wrote {}", path.display());
	};
	run(
		"pallet_dinfra_providers",
		benchmark_pallet::<pallet_dinfra_providers::Pallet<Runtime>>("pallet_dinfra_providers", &opts, &whitelist),
	);
	run(
		"pallet_dinfra_subscriptions",
		benchmark_pallet::<pallet_dinfra_subscriptions::Pallet<Runtime>>("pallet_dinfra_subscriptions", &opts, &whitelist),
	);
}
