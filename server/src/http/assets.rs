//! The browser bundle (`/pkg/…`): the islands' JavaScript and WASM and the
//! stylesheet, read once at start-up and served from memory. Each file is
//! also served under a name carrying its content hash
//! (`gatehouse.3f2a….wasm`), which pages link to and browsers may keep for
//! a year (`immutable`); the plain names stay for tools and answer
//! `no-cache` with an `ETag`. Brotli and gzip forms are made once, in the
//! background, so no request pays for compressing the bundle.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, OnceLock};

/// One bundle file and its compressed forms.
struct Asset {
    content_type: &'static str,
    raw: axum::body::Bytes,
    etag: String,
    brotli: OnceLock<axum::body::Bytes>,
    gzip: OnceLock<axum::body::Bytes>,
}

/// The bundle, by every name it is served under.
#[derive(Clone, Default)]
pub struct Assets {
    by_name: Arc<HashMap<String, (Arc<Asset>, bool)>>,
    /// `js:…`, `wasm:…`, `css:…` hashes, as Leptos reads them.
    hashes: Option<String>,
}

const KINDS: [(&str, &str, &[&str]); 3] = [
    ("js", "text/javascript; charset=utf-8", &["js"]),
    ("wasm", "application/wasm", &["wasm", "_bg.wasm"]),
    ("css", "text/css; charset=utf-8", &["css"]),
];

impl Assets {
    /// Reads `<site_root>/<pkg>/<output_name>.{js,wasm,css}` (the WASM may
    /// also be named `<output_name>_bg.wasm`). Missing files are left out:
    /// the server runs without a bundle (its API tests do), and pages then
    /// link the plain names.
    pub fn load(site_root: &FsPath, pkg: &str, output_name: &str) -> Assets {
        let dir = site_root.join(pkg);
        let mut by_name = HashMap::new();
        let mut hashes = Vec::new();
        for (kind, content_type, suffixes) in KINDS {
            let found = suffixes.iter().find_map(|suffix| {
                let file = if suffix.starts_with('_') {
                    format!("{output_name}{suffix}")
                } else {
                    format!("{output_name}.{suffix}")
                };
                std::fs::read(dir.join(&file))
                    .ok()
                    .map(|bytes| (file, bytes))
            });
            let Some((file, bytes)) = found else {
                continue;
            };
            let digest = Sha256::digest(&bytes);
            let hash = hex::encode(&digest[..10]);
            let asset = Arc::new(Asset {
                content_type,
                etag: format!("\"{hash}\""),
                raw: bytes.into(),
                brotli: OnceLock::new(),
                gzip: OnceLock::new(),
            });
            let extension = if kind == "wasm" { "wasm" } else { kind };
            by_name.insert(
                format!("{output_name}.{hash}.{extension}"),
                (asset.clone(), true),
            );
            by_name.insert(file, (asset.clone(), false));
            if kind == "wasm" {
                by_name.insert(format!("{output_name}_bg.wasm"), (asset.clone(), false));
                by_name.insert(format!("{output_name}.wasm"), (asset, false));
            }
            hashes.push(format!("{kind}:{hash}"));
        }
        let complete = hashes.len() == KINDS.len();
        let assets = Assets {
            by_name: Arc::new(by_name),
            hashes: complete.then(|| hashes.join("\n") + "\n"),
        };
        assets.compress_in_background();
        assets
    }

    /// Writes the hash file Leptos's script tags and the stylesheet link
    /// read; `None` when the bundle is incomplete (pages then link the
    /// plain names).
    pub fn write_hash_file(&self) -> Option<PathBuf> {
        static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let hashes = self.hashes.as_ref()?;
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("gatehouse-bundle-{}-{n}.txt", std::process::id()));
        let written = std::fs::File::create(&path).and_then(|mut f| f.write_all(hashes.as_bytes()));
        match written {
            Ok(()) => Some(path),
            Err(err) => {
                tracing::warn!(error = %err, path = %path.display(), "cannot write the bundle's hash file; pages link the plain names");
                None
            }
        }
    }

    fn compress_in_background(&self) {
        let mut unique: Vec<Arc<Asset>> = Vec::new();
        for (asset, _) in self.by_name.values() {
            if !unique.iter().any(|a| Arc::ptr_eq(a, asset)) {
                unique.push(asset.clone());
            }
        }
        if unique.is_empty() {
            return;
        }
        std::thread::spawn(move || {
            for asset in unique {
                // The best brotli for a release bundle; a debug one is
                // several megabytes, where quality 11 would take minutes.
                let quality = if asset.raw.len() > 4_000_000 { 5 } else { 11 };
                let mut br = Vec::new();
                let params = brotli::enc::BrotliEncoderParams {
                    quality,
                    lgwin: 22,
                    ..Default::default()
                };
                if brotli::BrotliCompress(&mut &asset.raw[..], &mut br, &params).is_ok() {
                    let _ = asset.brotli.set(br.into());
                }
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                if gz.write_all(&asset.raw).is_ok() {
                    if let Ok(gz) = gz.finish() {
                        let _ = asset.gzip.set(gz.into());
                    }
                }
            }
        });
    }
}

fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut pieces = part.split(';');
            let name = pieces.next().unwrap_or("").trim();
            let refused =
                pieces.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case(coding) && !refused
        })
}

/// `GET /pkg/{file}`.
pub async fn serve(
    State(assets): State<Assets>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some((asset, hashed)) = assets.by_name.get(&file) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CACHE_CONTROL, "no-store")],
            "No such file in the browser bundle.",
        )
            .into_response();
    };
    let cache = if *hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = Response::builder()
        .header(header::CONTENT_TYPE, asset.content_type)
        .header(header::CACHE_CONTROL, cache)
        .header(header::ETAG, asset.etag.as_str())
        .header(header::VARY, "accept-encoding");
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == asset.etag || t.trim() == "*")
        });
    if unchanged {
        return response
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .unwrap_or_else(|_| StatusCode::NOT_MODIFIED.into_response());
    }
    let body = match (asset.brotli.get(), asset.gzip.get()) {
        (Some(br), _) if accepts(&headers, "br") => {
            response = response.header(header::CONTENT_ENCODING, "br");
            br.clone()
        }
        (_, Some(gz)) if accepts(&headers, "gzip") => {
            response = response.header(header::CONTENT_ENCODING, "gzip");
            gz.clone()
        }
        // Not compressed yet (the first seconds after start-up): the
        // compression layer compresses this response on the way out.
        _ => asset.raw.clone(),
    };
    response
        .header(header::CONTENT_LENGTH, HeaderValue::from(body.len()))
        .body(Body::from(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br;q=0"),
        );
        assert!(accepts(&h, "gzip"));
        assert!(!accepts(&h, "br"));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br;q=1.0, gzip;q=0.8"),
        );
        assert!(accepts(&h, "br"));
        assert!(!accepts(&HeaderMap::new(), "br"));
    }
}
