//! `mcp-server`'s top-level modules form layers: each one uses only the modules below it, so
//! there is no import cycle between them (the core knows nothing of HTTP, the store traits know
//! nothing of their users, the transport sits on top). This test reads the sources and fails
//! naming the offending file and path when a module reaches up or sideways.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// From the bottom up. A module may use the modules of the layers before its own.
const LAYERS: &[&[&str]] = &[
    &["clock", "error", "form", "schema", "crypto", "telemetry"],
    &["client_state"],
    &["mrtr"],
    &["store"],
    &["auth"],
    &["context"],
    &["registry"],
    &["tasks"],
    &["server"],
    &["dispatch"],
    &["transport"],
    &["testing"],
    // Documentation only: the guides, which use no module.
    &["guides"],
    // Only in `cargo fuzz` builds: the fuzz targets' entry points into everything below.
    &["fuzzing"],
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../mcp-server/src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without comments and without its unit-test module (tests may use anything).
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The crate-root names (`crate::ToolDef`) and the module each comes from, read off `lib.rs`'s
/// `pub use module::…` items.
fn root_names(lib: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for item in lib.split(';') {
        let item = item.trim();
        let Some(rest) = item.strip_prefix("pub use ") else {
            continue;
        };
        let module = rest.split("::").next().unwrap_or("").trim().to_owned();
        if layer_of(&module).is_none() {
            continue; // `pub use crate::…` (the prelude), other crates
        }
        let idents = rest
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| w.chars().next().is_some_and(char::is_uppercase));
        for name in idents {
            names.insert(name.to_owned(), module.clone());
        }
    }
    names
}

/// The top-level modules a file's code names through `crate::`.
fn uses(code: &str, roots: &BTreeMap<String, String>) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            continue;
        }
        let module = roots.get(&ident).cloned().unwrap_or(ident);
        found.push(module);
    }
    found
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

#[test]
fn every_top_level_module_is_in_a_layer() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("lib.rs is readable");
    for line in code(&lib).lines() {
        let line = line.trim();
        let Some(name) = line
            .strip_prefix("pub mod ")
            .or_else(|| line.strip_prefix("mod "))
            .or_else(|| line.strip_prefix("pub(crate) mod "))
        else {
            continue;
        };
        let name = name.trim_end_matches(';').trim();
        if name == "prelude" || name == "__private" || name == "test_util" || name.contains('{') {
            continue;
        }
        assert!(
            layer_of(name).is_some(),
            "module `{name}` is in no layer: add it to LAYERS"
        );
    }
}

#[test]
fn modules_only_use_the_layers_below_them() {
    let root = src();
    let lib = std::fs::read_to_string(root.join("lib.rs")).expect("lib.rs is readable");
    let roots = root_names(&code(&lib));
    assert!(
        roots.get("ToolDef").is_some_and(|m| m == "registry"),
        "the crate-root names are read off lib.rs"
    );
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() > 50, "the sources are found ({})", files.len());
    let mut violations = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&root).unwrap_or(&file);
        let module = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or("")
            .trim_end_matches(".rs")
            .to_owned();
        if module == "lib" || module == "test_util" {
            continue;
        }
        let Some(own) = layer_of(&module) else {
            violations.push(format!(
                "{}: module `{module}` is in no layer",
                relative.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("source is readable");
        for used in uses(&code(&text), &roots) {
            if used == module || used == "BoxFuture" || used == "core" || used == "types" {
                continue;
            }
            match layer_of(&used) {
                Some(l) if l < own => {}
                _ => violations.push(format!(
                    "{}: `{module}` uses `crate::{used}`, which is not below it",
                    relative.display()
                )),
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}
