//! Process-wide allocator tuning.
//!
//! glibc's malloc gives each thread that allocates its own arena (up to 8
//! per CPU). A gateway holding thousands of idle TLS connections and long
//! polls then keeps memory spread over several arenas whose free holes are
//! not shared. Measured with the benchmark (docs/benchmarks.md): two arenas
//! keep about 4.5 KiB less per waiting agent than glibc's default, at no
//! measurable CPU cost per request.

/// Limits glibc malloc to `arenas` arenas (`M_ARENA_MAX`); 0 leaves glibc's
/// default. Call before other threads start. A no-op on other C libraries.
pub fn limit_malloc_arenas(arenas: usize) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if arenas > 0 {
        let value = libc::c_int::try_from(arenas).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only changes an allocator parameter.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, value);
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = arenas;
}
