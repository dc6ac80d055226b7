//! Whether the API page's browser test can run here: without Chromium and
//! with `SKIP_BROWSER_TESTS=1`, it is compiled as ignored (reported as
//! skipped), not as a test that passes without doing anything.

fn main() {
    const CHROMIUM: &str = "/usr/bin/chromium";
    println!("cargo::rustc-check-cfg=cfg(no_browser)");
    println!("cargo::rerun-if-env-changed=SKIP_BROWSER_TESTS");
    // A path that does not exist makes cargo run this again on every build,
    // so installing Chromium later is noticed.
    println!("cargo::rerun-if-changed={CHROMIUM}");
    let missing = !std::path::Path::new(CHROMIUM).exists();
    if missing && std::env::var("SKIP_BROWSER_TESTS").as_deref() == Ok("1") {
        println!("cargo::rustc-cfg=no_browser");
    }
}
