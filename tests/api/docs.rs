//! The reference documentation checked against the code, so it cannot drift: the configuration
//! reference (`docs/configuration.md`, and the README's short table) against `config/default.toml`,
//! and the error catalogue (`docs/errors.md`) against the code table in `src/error/code.rs`.
//! Plain file reads: no application, no Redis. Each test lists every difference at once.

use std::collections::BTreeMap;
use std::path::Path;

use actix_web::http::StatusCode;
use config::Source as _;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The cells of every Markdown table row in `md` (outer pipes dropped, cells trimmed, `\|` kept as
/// a literal pipe). Header and separator rows are included: callers match on the first cell.
fn table_rows(md: &str) -> Vec<Vec<String>> {
    md.lines()
        .map(str::trim)
        .filter(|l| l.starts_with('|') && l.ends_with('|') && l.len() > 1)
        .map(|l| {
            l[1..l.len() - 1]
                .replace("\\|", "\u{0}")
                .split('|')
                .map(|c| c.trim().replace('\u{0}', "|"))
                .collect()
        })
        .collect()
}

/// `` `x` `` → `x`; anything not in one pair of backticks → `None`.
fn code_span(cell: &str) -> Option<&str> {
    let inner = cell.strip_prefix('`')?.strip_suffix('`')?;
    (!inner.contains('`')).then_some(inner)
}

/// A documented default: `` `""` `` is the empty string.
fn documented_value(cell: &str) -> Option<String> {
    code_span(cell).map(|v| {
        if v == "\"\"" {
            String::new()
        } else {
            v.to_owned()
        }
    })
}

/// Every key of `config/default.toml` as `section.key`, with its value as text.
fn default_toml() -> BTreeMap<String, String> {
    let file = config::Config::builder()
        .add_source(config::File::from_str(
            &read("config/default.toml"),
            config::FileFormat::Toml,
        ))
        .build()
        .expect("config/default.toml parses");
    let mut keys = BTreeMap::new();
    for (section, table) in file.collect().expect("a table") {
        let table = table
            .into_table()
            .unwrap_or_else(|_| panic!("`{section}` is not a [section]"));
        for (key, value) in table {
            let text = value
                .into_string()
                .unwrap_or_else(|e| panic!("{section}.{key}: not a plain value: {e}"));
            keys.insert(format!("{section}.{key}"), text);
        }
    }
    keys
}

fn is_settings_key(s: &str) -> bool {
    let mut parts = s.split('.');
    let ok = |p: Option<&str>| {
        p.is_some_and(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
    };
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

fn fail_on(problems: Vec<String>, what: &str) {
    assert!(problems.is_empty(), "{what}:\n  {}", problems.join("\n  "));
}

#[test]
fn the_configuration_reference_lists_every_key_with_its_default() {
    let file = default_toml();
    let mut documented = BTreeMap::new();
    let mut problems = Vec::new();
    for row in table_rows(&read("docs/configuration.md")) {
        let Some(key) = row
            .first()
            .and_then(|c| code_span(c))
            .filter(|k| is_settings_key(k))
        else {
            continue;
        };
        let default = row.get(1).and_then(|c| documented_value(c));
        if documented.insert(key.to_owned(), default).is_some() {
            problems.push(format!("{key}: listed twice"));
        }
    }
    for (key, value) in &file {
        match documented.get(key) {
            None => problems.push(format!(
                "{key}: in config/default.toml but not in docs/configuration.md"
            )),
            Some(None) => problems.push(format!(
                "{key}: the default must be written in backticks (`\"\"` for empty)"
            )),
            Some(Some(doc)) if doc != value => problems.push(format!(
                "{key}: documented default `{doc}`, config/default.toml says `{value}`"
            )),
            Some(Some(_)) => {}
        }
    }
    for key in documented.keys().filter(|k| !file.contains_key(*k)) {
        problems.push(format!(
            "{key}: in docs/configuration.md but not in config/default.toml"
        ));
    }
    fail_on(
        problems,
        "docs/configuration.md disagrees with config/default.toml",
    );
}

/// `BFF__SESSION__WAIT_TIMEOUT_MS` → `session.wait_timeout_ms`.
fn key_of_env_var(var: &str) -> Option<String> {
    let (section, key) = var.strip_prefix("BFF__")?.split_once("__")?;
    Some(format!("{section}.{key}").to_ascii_lowercase())
}

#[test]
fn the_readme_configuration_table_agrees_with_the_defaults() {
    let file = default_toml();
    let mut problems = Vec::new();
    let mut rows = 0;
    for row in table_rows(&read("README.md")) {
        let Some(first) = row.first().filter(|c| c.starts_with("`BFF__")) else {
            continue;
        };
        rows += 1;
        // A row may name two keys, `A` / `B`, with one default each or one for both.
        let vars: Vec<&str> = first.split(" / ").filter_map(code_span).collect();
        let defaults: Vec<Option<String>> = match row.get(1) {
            Some(cell) => cell.split(" / ").map(documented_value).collect(),
            None => vec![None],
        };
        for (i, var) in vars.iter().enumerate() {
            let Some(key) = key_of_env_var(var).filter(|k| file.contains_key(k)) else {
                problems.push(format!("{var}: not a key of config/default.toml"));
                continue;
            };
            // A default that is not in backticks ("dev secret") describes the value in words.
            let documented = defaults.get(i).or(defaults.first()).cloned().flatten();
            if let Some(doc) = documented {
                if doc != file[&key] {
                    problems.push(format!(
                        "{var}: README says `{doc}`, config/default.toml says `{}`",
                        file[&key]
                    ));
                }
            }
        }
    }
    assert!(rows > 0, "the README has no configuration table");
    fail_on(problems, "README.md disagrees with config/default.toml");
}

/// One row of the code table: code, status, `retryable` as the table sets it.
fn code_table() -> Vec<(String, u16, bool)> {
    let source = read("src/error/code.rs");
    let by_name: BTreeMap<String, u16> = (100..600)
        .filter_map(|n| StatusCode::from_u16(n).ok())
        .filter_map(|s| {
            let name = s
                .canonical_reason()?
                .to_ascii_uppercase()
                .replace([' ', '-'], "_");
            Some((name, s.as_u16()))
        })
        .collect();
    let rows: Vec<_> = source
        .lines()
        .filter_map(|l| l.split_once("=> spec(\"").map(|(_, rest)| rest))
        .map(|rest| {
            let (code, rest) = rest.split_once('"').expect("a closing quote");
            let mut args = rest.split(',').skip(1).map(str::trim);
            let status = args
                .next()
                .and_then(|s| s.strip_prefix("S::"))
                .unwrap_or("");
            let status = *by_name
                .get(status)
                .unwrap_or_else(|| panic!("{code}: status `{status}` not understood"));
            let retryable = args.next() == Some("true");
            (code.to_owned(), status, retryable)
        })
        .collect();
    assert!(
        rows.len() > 10,
        "src/error/code.rs: the code table was not found"
    );
    rows
}

/// `code` → (status cell, retryable cell) of the catalogue rows in `md`.
fn catalogue(md: &str) -> BTreeMap<String, (String, String)> {
    table_rows(md)
        .into_iter()
        .filter_map(|row| {
            let code = code_span(row.first()?)?;
            let upper = code
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            (upper && row.len() >= 3).then(|| (code.to_owned(), (row[1].clone(), row[2].clone())))
        })
        .collect()
}

/// Codes of the table that never appear in a body (their status is the upstream's).
const NEVER_ON_THE_WIRE: &[&str] = &["UPSTREAM_ANSWER"];

#[test]
fn the_error_catalogue_lists_every_code_with_its_status_and_retryable() {
    let doc = read("docs/errors.md");
    let ours_end = doc
        .find("\n## The platform's codes")
        .expect("docs/errors.md: a section \"## The platform's codes\"");
    let announced_start = doc.find("\n## Codes being added").unwrap_or(ours_end);
    let emitted = catalogue(&doc[..announced_start]);
    let mut listed = emitted.clone();
    listed.extend(catalogue(&doc[announced_start..ours_end]));
    let table = code_table();
    let mut problems = Vec::new();
    for (code, status, retryable) in &table {
        let Some((doc_status, doc_retryable)) = listed.get(code) else {
            problems.push(format!("{code}: missing from docs/errors.md"));
            continue;
        };
        if NEVER_ON_THE_WIRE.contains(&code.as_str()) {
            continue;
        }
        if doc_status != &status.to_string() {
            problems.push(format!(
                "{code}: documented status {doc_status}, the code says {status}"
            ));
        }
        // What the body carries: the error envelope also marks every 429/502/503/504 retryable.
        let sent = *retryable || matches!(status, 429 | 502 | 503 | 504);
        let want = if sent { "yes" } else { "no" };
        if doc_retryable != want {
            problems.push(format!(
                "{code}: documented retryable `{doc_retryable}`, responses carry `{want}`"
            ));
        }
    }
    for code in emitted.keys() {
        if !table.iter().any(|(c, _, _)| c == code) {
            problems.push(format!(
                "{code}: listed as emitted in docs/errors.md but not in src/error/code.rs"
            ));
        }
    }
    fail_on(problems, "docs/errors.md disagrees with src/error/code.rs");
}
