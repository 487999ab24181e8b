//! The migrations are embedded in the binary (`sqlx::migrate!`): build
//! again whenever one is added or changed, not only when Rust code is.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
