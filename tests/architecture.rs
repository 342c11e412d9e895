//! The shape of the code base, checked: imports between the service's top-level modules point one
//! way (each module may use only modules of a lower layer, so no two import each other, directly
//! or through others), and the vocabulary crate stays free of HTTP frameworks, clients and
//! runtimes. `docs/architecture.md` explains the layers; this test keeps the document true.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layer of every top-level module of `src/`: a module may import only from lower layers.
const LAYERS: &[(&str, u8)] = &[
    // Vocabulary of our own: parsed newtypes, settings, metric families.
    ("domain", 0),
    ("config", 0),
    ("metrics", 0),
    ("drain", 0),
    // Plumbing: logs, the store, the upstream client, the embedded simulator.
    ("telemetry", 1),
    ("store", 1),
    ("upstream", 1),
    ("embedded", 1),
    // Shared data and the HTTP edge's error type.
    ("directory", 2),
    ("events", 2),
    ("error", 2),
    // Who is calling, request plumbing, HTTP helpers.
    ("auth", 3),
    ("http", 3),
    ("middleware", 3),
    ("listeners", 3),
    // The audit log: written by capabilities, read by ops.
    ("audit", 4),
    // Live updates for apps: the per-instance wake-up hub and its streams (ops streams use it too).
    ("live", 4),
    // Capabilities (the proxy uses the session capability for tokens, and revocation ends
    // sessions, so both sit above it).
    ("session", 5),
    ("webhook", 5),
    ("ops", 5),
    ("web", 5),
    ("health", 5),
    ("doctor", 5),
    ("proxy", 6),
    ("revoke", 6),
    // The OpenAPI document: it gathers every capability's annotated paths.
    ("openapi", 7),
    // Wiring.
    ("routes", 8),
    ("startup", 9),
    ("cli", 10),
];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/proxy/routes.rs` → `proxy`).
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src_dir()).expect("under src");
    let first = rel.components().next().expect("a component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_owned()
}

/// `crate::name` references outside comments, per top-level module.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let module = module_of(&file);
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read file");
        let deps = map.entry(module.clone()).or_default();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or("");
            let mut rest = code;
            while let Some(at) = rest.find("crate::") {
                let after = &rest[at + "crate::".len()..];
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != module {
                    deps.insert(name);
                }
                rest = after;
            }
        }
    }
    map
}

#[test]
fn every_top_level_module_has_a_layer() {
    let layers: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let missing: Vec<String> = imports()
        .keys()
        .filter(|m| !layers.contains_key(m.as_str()))
        .cloned()
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a layer in tests/architecture.rs (and docs/architecture.md): {missing:?}"
    );
}

#[test]
fn imports_between_top_level_modules_point_one_way() {
    let layers: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let mut wrong = Vec::new();
    for (module, deps) in imports() {
        let Some(&mine) = layers.get(module.as_str()) else {
            continue;
        };
        for dep in deps {
            match layers.get(dep.as_str()) {
                Some(&theirs) if theirs < mine => {}
                Some(&theirs) => wrong.push(format!(
                    "{module} (layer {mine}) imports {dep} (layer {theirs})"
                )),
                None => wrong.push(format!("{module} imports {dep}, which has no layer")),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layering:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_contract_crate_has_no_framework_client_or_runtime() {
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/contract/Cargo.toml"),
    )
    .expect("read the contract manifest");
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .expect("a dependencies table");
    for forbidden in ["actix", "reqwest", "tokio", "hyper", "redis"] {
        assert!(
            !deps.contains(forbidden),
            "crates/contract depends on {forbidden}"
        );
    }
}

#[test]
fn the_service_reaches_the_simulator_only_through_the_embedded_module() {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let allowed = ["embedded.rs", "cli.rs", "lib.rs"];
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            text.contains("aarthik_sandbox")
                && !allowed.iter().any(|a| f.ends_with(a))
                && !f.to_string_lossy().contains("config/dev.rs")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "only embedded.rs, cli.rs and lib.rs may name the sandbox crate: {offenders:?}"
    );
}

#[test]
fn every_route_is_registered_through_the_route_registry() {
    // `crate::http::resource` remembers every route template, so the OpenAPI test can compare
    // the routes with the document; a resource made elsewhere would escape that check.
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| !f.ends_with("http/registry.rs"))
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            text.lines().any(|line| {
                let code = line.split("//").next().unwrap_or("");
                code.contains("web::resource(") || code.contains("web::scope(")
            })
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "routes must be made with crate::http::resource (or http::registry::catch_all_scope): {offenders:?}"
    );
}
