//! Where the page finds its stylesheet. The server names bundle files by
//! their content (`/pkg/gatehouse.<hash>.css`) so browsers may keep them for
//! good; it writes the hashes to the file `LeptosOptions::hash_file` names,
//! which Leptos's own script tags read too.

use leptos::config::LeptosOptions;

/// The stylesheet's URL: hashed when the server hashed its files.
pub fn stylesheet_href(options: &LeptosOptions) -> String {
    let name = &options.output_name;
    let pkg = &options.site_pkg_dir;
    match hash_of(options, "css") {
        Some(hash) => format!("/{pkg}/{name}.{hash}.css"),
        None => format!("/{pkg}/{name}.css"),
    }
}

/// The hash written for `kind` (`js`, `wasm`, `css`), read once per file.
#[cfg(feature = "ssr")]
fn hash_of(options: &LeptosOptions, kind: &str) -> Option<String> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static READ: OnceLock<Mutex<HashMap<String, HashMap<String, String>>>> = OnceLock::new();
    if !options.hash_files {
        return None;
    }
    let path = options.hash_file.to_string();
    let mut read = READ.get_or_init(Default::default).lock().ok()?;
    let hashes = read.entry(path.clone()).or_insert_with(|| {
        std::fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect()
    });
    hashes.get(kind).cloned()
}

#[cfg(not(feature = "ssr"))]
fn hash_of(_: &LeptosOptions, _: &str) -> Option<String> {
    None
}
